"""Bad input on the command line gets one line on stderr and exit status 2, never a traceback."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from psviz.apps.cli import main
from psviz.train import fit, preset
from psviz.train.run_folder import locked

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished digits run (Norm-SoftMax with PS, one epoch)."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    fit(preset("digits", epochs=1, output_dir=str(run_dir)), progress=False)
    return run_dir


def _train(*settings: str) -> list[str]:
    return ["train", "--config", "digits", "--no-progress", *sum((["--set", s] for s in settings), [])]


def _run(where: Path) -> Path:
    return where / "run"


def _file(where: Path) -> Path:
    (where / "a-file").write_text("not a folder")
    return where / "a-file"


def _truncated(where: Path) -> Path:
    data = (_run(where) / "best.pt").read_bytes()
    (_run(where) / "best.pt").write_bytes(data[: len(data) // 2])
    return _run(where)


# (name, argv built from the case's folder, the text stderr must hold)
CASES = [
    ("used folder without --resume", lambda w: _train(f"output_dir={_run(w)}", "ps=false", "loss=proxy_nca"),
     "is not empty"),
    ("resume with another config", lambda w: [*_train(f"output_dir={_run(w)}", "lr=0.01"), "--resume"],
     "differing keys: lr: 0.001 -> 0.01"),
    ("resume and overwrite", lambda w: [*_train(f"output_dir={_run(w)}"), "--resume", "--overwrite"],
     "choose one"),
    ("folder in use", lambda w: _train(f"output_dir={w / 'locked'}"), "in use by another psviz run (process"),
    ("output_dir is a file", lambda w: _train(f"output_dir={_file(w)}"), "is a file, not a folder"),
    ("output_dir under a file", lambda w: _train(f"output_dir={_file(w) / 'run'}"), "lies under a file"),
    ("root on digits", lambda w: _train("root=some/folder"), "root: dataset 'digits' takes no root folder"),
    ("root on toy", lambda w: _train("dataset=toy", "root=some/folder"), "root: dataset 'toy' takes no root"),
    ("root on glyphs", lambda w: _train("dataset=glyphs", "root=x"), "root: dataset 'glyphs' takes no root"),
    ("unknown dataset option", lambda w: _train("dataset_options={foo: 1}"), "has no option ['foo']"),
    ("K beyond the items", lambda w: _train("ks=[2000]"), "ks: [2000] exceed the 895 items"),
    ("lr NaN", lambda w: _train("lr=nan"), "lr must be a finite number, got nan"),
    ("lr_gamma infinite", lambda w: _train("lr_gamma=inf"), "lr_gamma must be a finite number, got inf"),
    ("alpha NaN", lambda w: _train("alpha=.nan"), "alpha must be a finite number"),
    ("loss option NaN", lambda w: _train("loss_options={scale: .nan}"), "loss_options.scale must be a finite"),
    ("batch of one with PS", lambda w: _train("batch_size=1"), "batch_size must be >= 2 with ps=true"),
    ("batch of one with BatchNorm", lambda w: _train("batch_size=1", "ps=false"), "has BatchNorm layers"),
    ("balanced batch of one class", lambda w: _train("sampler=balanced", "samples_per_class=64"),
     "a batch needs two classes"),
    ("one seen class with PS", lambda w: _train("train_classes=1"), "at least two seen classes"),
    ("evaluate a damaged checkpoint", lambda w: ["evaluate", str(_truncated(w)), "--no-progress"], "damaged"),
    ("evaluate a file", lambda w: ["evaluate", str(_file(w))], "not a psviz run folder"),
    ("demo with no workers", lambda w: ["demo", "--workers", "0", "--output-dir", str(w / "demo")],
     "workers must be >= 1, got 0"),
    ("playground lesson out of range", lambda w: ["playground", "--lesson", "9", "--no-browser"],
     "lesson must be from 1 to 4, got 9"),
]


@pytest.mark.parametrize("make_argv, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(make_argv, expected, finished, tmp_path, capsys):
    shutil.copytree(finished, tmp_path / "run")
    (tmp_path / "locked").mkdir()
    argv = make_argv(tmp_path)
    with locked(tmp_path / "locked"):  # a live writer of that folder (this process, through another handle)
        status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"psviz {argv[0]}: ") and expected in err, err


@pytest.mark.slow
def test_an_output_dir_that_cannot_be_written_is_one_line(tmp_path):
    """As root, permissions are checked only without CAP_DAC_OVERRIDE: drop it with setpriv (util-linux)."""
    if shutil.which("setpriv") is None and Path(sys.executable).stat().st_uid == 0:
        pytest.skip("needs setpriv to drop root's permission override")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    prefix = ["setpriv", "--bounding-set=-dac_override"] if shutil.which("setpriv") else []
    for target, expected in ((folder, "cannot be written (Permission denied)"),
                             (folder / "run", "cannot create the folder (Permission denied)")):
        done = subprocess.run([*prefix, sys.executable, "-m", "psviz", *_train(f"output_dir={target}")],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_playground_port_in_use_is_one_line_before_anything_starts(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"psviz playground: port {port} on 127.0.0.1 is in use (another Playground or another "
                           "server); choose a free one with --port"), err
