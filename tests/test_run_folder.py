"""A run folder belongs to one run: no silent reuse, one live writer, resume only of the same config, the
checkpoint's own config when reopening, and SIGTERM saving like Ctrl-C."""

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from psviz.apps.cli import main
from psviz.train import Interrupted, RunFolderWarning, fit, load_checkpoint, load_run, preset
from psviz.train.run_folder import LOCK, RunFolderError, locked

ROOT = Path(__file__).resolve().parents[1]


def quick(**changes):
    """A digits run of a second or two."""
    return preset("digits", **{"epochs": 1, "eval_every": 1, **changes})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished Norm-SoftMax + PS run on digits, copied by the tests that change it."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    fit(quick(output_dir=str(run_dir)), progress=False)
    return run_dir


def copy_of(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target


def test_a_new_run_into_a_used_folder_is_refused_and_leaves_it_alone(finished, tmp_path):
    """The issue's case: a finished PS run copied to a folder, then another config trained there without resume."""
    run_dir = copy_of(finished, tmp_path)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    with pytest.raises(RunFolderError, match="not empty .*--resume.*--overwrite"):
        fit(quick(output_dir=str(run_dir), ps=False, loss="proxy_nca"), progress=False)
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_overwrite_deletes_the_old_run_first(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    fit(quick(output_dir=str(run_dir), ps=False, loss="proxy_nca", epochs=2, eval_every=2), overwrite=True,
        progress=False)
    for name in ("best.pt", "last.pt"):  # both checkpoints are the new run's, not one of each
        state = load_checkpoint(run_dir / name)
        assert state["config"]["loss"] == "proxy_nca" and state["epoch"] == 2
    assert sorted(p.name for p in run_dir.iterdir()) == ["best.pt", "config.yaml", "history.json", "last.pt"]


def test_overwrite_never_deletes_files_psviz_did_not_write(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="did not write \\(notes.txt\\)"):
        fit(quick(output_dir=str(run_dir)), overwrite=True, progress=False)
    assert (run_dir / "notes.txt").read_text() == "mine" and (run_dir / "best.pt").is_file()
    with pytest.raises(ValueError, match="choose one"):
        fit(quick(output_dir=str(run_dir)), overwrite=True, resume=True, progress=False)


def test_a_second_live_writer_is_refused_naming_the_first_ones_pid(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with locked(run_dir):
        with pytest.raises(RunFolderError, match=f"in use by another psviz run \\(process {os.getpid()}\\)"):
            fit(quick(output_dir=str(run_dir)), progress=False)
    assert not (run_dir / LOCK).exists()
    fit(quick(output_dir=str(run_dir)), progress=False)  # free again once the holder let go
    assert not (run_dir / LOCK).exists()


def test_a_lock_file_left_by_a_killed_process_does_not_block(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / LOCK).write_text("999999\n")  # SIGKILL leaves the file; the kernel dropped its lock with the process
    result = fit(quick(output_dir=str(run_dir)), progress=False)
    assert result.history[-1]["epoch"] == 1 and not (run_dir / LOCK).exists()


@pytest.mark.slow
def test_two_train_processes_into_one_folder_and_sigterm_saves(tmp_path):
    """A `psviz train` is running: a second one into its folder is refused with the first one's pid; SIGTERM (what
    kill and schedulers send) then stops the first after a step, saves last.pt, and exits 143."""
    run_dir = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "psviz", "train", "--config", "digits", "--no-progress",
                              "--set", "epochs=5000", "--set", f"output_dir={run_dir}"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run_dir / "config.yaml").exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, first.communicate()
    assert main(["train", "--config", "digits", "--set", "epochs=1", "--set", f"output_dir={run_dir}"]) == 2
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 128 + signal.SIGTERM, (out, err)
    assert "interrupted: saved" in out + err and "--resume" in err
    state = load_checkpoint(run_dir / "last.pt")
    assert state["epoch"] < 5000 and state["history"][-1].get("partial")
    assert not (run_dir / LOCK).exists()


def test_sigterm_in_process_stops_after_the_step_and_saves_it(tmp_path):
    class Terminator:
        def on_step_end(self, epoch, step, loss):
            if step == 3:
                os.kill(os.getpid(), signal.SIGTERM)

    run_dir = tmp_path / "run"
    with pytest.raises(Interrupted) as stopped:
        fit(quick(output_dir=str(run_dir), epochs=3), callbacks=[Terminator()], progress=False)
    assert stopped.value.signum == signal.SIGTERM
    state = load_checkpoint(run_dir / "last.pt")
    assert (state["epoch"], state["step"]) == (0, 3)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_resume_with_another_config_is_refused_listing_the_keys(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    with pytest.raises(RunFolderError, match="differing keys: lr: 0.001 -> 0.01, ps: True -> False"):
        fit(quick(output_dir=str(run_dir), lr=0.01, ps=False), resume=True, progress=False)
    resumed = fit(quick(output_dir=str(run_dir), epochs=2), resume=True, progress=False)  # more epochs: allowed
    assert [row["epoch"] for row in resumed.history] == [1, 2]


def test_load_run_trusts_the_checkpoint_and_says_when_config_yaml_disagrees(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    quick(output_dir=str(run_dir), ps=False, loss="proxy_nca").to_yaml(run_dir / "config.yaml")
    with pytest.warns(RunFolderWarning, match="loss: 'norm_softmax' -> 'proxy_nca'.*ps: True -> False"):
        run = load_run(run_dir)
    assert run.config.loss == "norm_softmax" and run.config.ps and run.config.output_dir == str(run_dir)
    reference = load_run(finished)
    assert torch.equal(run.loss.proxies, reference.loss.proxies)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an agreeing folder gives no warning
        load_run(finished)


def test_psviz_evaluate_names_the_run_it_evaluated(finished, tmp_path, capsys):
    run_dir = copy_of(finished, tmp_path)
    quick(output_dir=str(run_dir), ps=False, loss="proxy_nca").to_yaml(run_dir / "config.yaml")
    assert main(["evaluate", str(run_dir), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "(norm_softmax with PS on digits; best checkpoint, epoch 1)" in captured.out
    assert "warning:" in captured.err and "using the checkpoint's" in captured.err
