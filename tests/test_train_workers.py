"""`fit_in_workers`: runs trained side by side in worker processes equal runs trained here, bit for bit."""

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from psviz.base.names import ARMS, BASELINE, WITH_PS
from psviz.train import fit, fit_in_workers, load_checkpoint, mechanism_measures, preset

ROOT = Path(__file__).resolve().parents[1]


def _strip(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


@pytest.mark.slow
def test_runs_in_workers_equal_runs_here_bit_for_bit(tmp_path):
    configs = {name: preset("toy", ps=ps, epochs=6, seed=2, output_dir=str(tmp_path / "workers" / name))
               for name, ps in ARMS}
    finished = fit_in_workers(configs, workers=2, measures=[WITH_PS], progress=False)
    assert list(finished) == [BASELINE, WITH_PS]
    for name, config in configs.items():
        here = fit(config.replace(output_dir=str(tmp_path / "here" / name)), progress=False)
        there = finished[name].result
        for key, value in here.model.state_dict().items():
            assert torch.equal(value, there.model.state_dict()[key]), (name, key)
        assert torch.equal(here.loss.proxies, there.loss.proxies), name
        assert _strip(here.history) == _strip(there.history), name
        assert there.run_dir == Path(config.output_dir) and (there.run_dir / "last.pt").is_file()
        assert finished[name].seconds > 0
    assert finished[BASELINE].measures is None
    assert finished[WITH_PS].measures == mechanism_measures(here, seed=2)


def test_a_run_that_fails_in_its_worker_is_named(tmp_path):
    good = preset("toy", epochs=1, output_dir=str(tmp_path / "good"))
    bad = preset("paper-resnet50", root=str(tmp_path / "no-such-cub"), output_dir=str(tmp_path / "bad"))
    with pytest.raises(RuntimeError, match="run 'broken' failed in its worker: ValueError: .*no-such-cub"):
        fit_in_workers({"fine": good, "broken": bad}, progress=False)


@pytest.mark.parametrize("change, message", [
    (dict(output_dir=None), "need output_dir .* missing for: a"),
    (dict(workers=0), "workers must be >= 1"),
    (dict(measures=["nobody"]), "measures names runs that are not in configs: nobody"),
])
def test_bad_input_is_refused(tmp_path, change, message):
    config = preset("toy", epochs=1, output_dir=change.pop("output_dir", str(tmp_path / "a")))
    with pytest.raises(ValueError, match=message):
        fit_in_workers({"a": config}, progress=False, **change)
    with pytest.raises(ValueError, match="at least one config"):
        fit_in_workers({}, progress=False)


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_and_each_saves_its_run(tmp_path):
    """SIGINT to the parent reaches each worker once: both stop between steps and write last.pt, as `fit` does."""
    script = textwrap.dedent(f"""
        from psviz.train import fit_in_workers, preset
        configs = {{name: preset("digits", epochs=400, eval_every=400, seed=1, output_dir=r"{tmp_path}/" + name)
                    for name in ("a", "b")}}
        fit_in_workers(configs, progress=False)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not all((tmp_path / n / "config.yaml").exists() for n in "ab") and process.poll() is None \
            and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # both inside their first epochs
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode != 0 and "KeyboardInterrupt" in err, (out, err)
    for name in "ab":
        state = load_checkpoint(tmp_path / name / "last.pt")
        assert 0 <= state["epoch"] < 400
