"""Reliability, round two (issue 32): configs whose parsing or validation blew up, seeds beyond every RNG's range,
model options that fail only at the first step, full disks, damaged run files, worker errors and Ctrl-C in the
demo. The command line gets one line on stderr and exit status 2 (130 for an interrupt); the library raises a
ValueError or TypeError naming the argument; a failed command changes no stored run or checkpoint."""

import contextlib
import json
import signal
from pathlib import Path

import pytest

from psviz.apps.cli import main
from psviz.train import TrainConfig
from psviz.train.config import ConfigError
from psviz.train.records import RecordStore, run_record

ROOT = Path(__file__).resolve().parents[1]


# ---- helpers ------------------------------------------------------------------------------------------------------


def _train(*settings: str, config: str = "digits") -> list[str]:
    return ["train", "--config", config, "--no-progress", *sum((["--set", s] for s in settings), [])]


def one_line(capsys, command: str, status: int, expected: str) -> str:
    """stderr of the command just run: one line, no traceback, starting with the command, holding ``expected``."""
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"psviz {command}: ") and expected in err, err
    return err


@contextlib.contextmanager
def within(seconds: int):
    """Fail the block (with TimeoutError) if it runs longer than ``seconds``."""
    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def laughs(levels: int = 9) -> str:
    """A "billion laughs" config: each level's list repeats the previous one nine times, 9**levels values in all."""
    lines = ["  l0: &l0 [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]"]
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "dataset: digits\nepochs: 1\nmodel_options:\n" + "\n".join(lines) + "\n"


def nested(depth: int, json_text: bool = False) -> str:
    """A config whose loss_options.scale is ``depth`` lists, one inside the other."""
    value = "[" * depth + "]" * depth
    return (f'{{"dataset": "digits", "loss_options": {{"scale": {value}}}}}' if json_text
            else f"dataset: digits\nloss_options: {{scale: {value}}}\n")


# ---- 1. configs: aliases and deep nesting --------------------------------------------------------------------------


def test_a_billion_laughs_config_is_refused_at_once(tmp_path, capsys):
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs())
    with within(10):
        status = main(_train(f"output_dir={tmp_path / 'run'}", config=str(path)))
    err = one_line(capsys, "train", status, "aliases")
    assert str(path) in err
    assert not (tmp_path / "run").exists()
    with within(10), pytest.raises(ConfigError, match=r"alias \*l0 at line 5"):
        TrainConfig.load(path)


def test_an_alias_in_a_set_value_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"--set model_options: .*alias \*a"):
        TrainConfig().with_overrides(["model_options={x: &a [1], y: *a}"])


@pytest.mark.parametrize("depth, json_text", [(5000, False), (5000, True), (600, True), (40, False)],
                         ids=["yaml-5000", "json-5000", "json-600", "yaml-40"])
def test_deeply_nested_config_is_one_line(tmp_path, capsys, depth, json_text):
    path = tmp_path / ("deep.json" if json_text else "deep.yaml")
    path.write_text(nested(depth, json_text))
    status = main(_train(f"output_dir={tmp_path / 'run'}", config=str(path)))
    err = one_line(capsys, "train", status, "nested")
    assert str(path) in err and "Recursion" not in err
    assert not (tmp_path / "run").exists()


def test_deep_nesting_from_python_or_set_names_the_key():
    value = []
    for _ in range(3000):
        value = [value]
    with pytest.raises(ConfigError, match=r"loss_options: nested more than 32 levels deep"):
        TrainConfig.from_dict({"loss_options": {"scale": value}})
    with pytest.raises(ConfigError, match=r"ks: nested more than 32 levels deep"):
        TrainConfig(ks=value)
    with pytest.raises(ConfigError, match=r"--set loss_options: nested too deeply"):
        TrainConfig().with_overrides(["loss_options={scale: " + "[" * 5000 + "]" * 5000 + "}"])


def test_a_deeply_nested_run_record_counts_as_not_stored_reported_once(tmp_path, capsys):
    config = TrainConfig(epochs=1)
    store = RecordStore(tmp_path / "runs")
    store.write(config, run_record(config, []))
    record = store.path(config)
    record.write_text('{"config": {}, "history": [], "metrics": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert store.read(config) is None and not store.has(config)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"psviz: skipping the run record {record} (") and "nested" in lines[0]
    deep = json.loads("[" * 40 + "]" * 40)  # parses, but is no config
    record.write_text(json.dumps({"config": {**config.to_dict(), "loss_options": {"scale": deep}}, "history": [],
                                  "metrics": {}}))
    assert store.read(config) is None
    (line,) = capsys.readouterr().err.splitlines()
    assert "nested more than 32 levels deep" in line


# ---- 2. seeds ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [2**64, 2**40, -1])
def test_a_seed_out_of_range_is_one_line_naming_seed(tmp_path, capsys, seed):
    status = main(_train(f"seed={seed}", f"output_dir={tmp_path / 'run'}"))
    one_line(capsys, "train", status, f"seed must be an integer from 0 to 2147483647 (2**31 - 1), got {seed}")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="seed must be an integer from 0 to 2147483647"):
        TrainConfig(seed=seed)


def test_the_largest_seed_trains(tmp_path):
    from psviz.train import fit, preset

    result = fit(preset("toy", epochs=1, seed=2**31 - 1, sampler="balanced", batch_size=32, samples_per_class=4),
                 progress=False)
    assert result.history[-1]["epoch"] == 1


@pytest.mark.parametrize("seed", [2**40, 2**31, -1, 1.0, True])
def test_nmi_and_kmeans_name_a_bad_seed_and_its_range(seed):
    import torch

    from psviz.evaluate import kmeans_assignments, nmi

    x, y = torch.randn(40, 4), torch.arange(40) % 4
    for call in (lambda: nmi(x, y, seed=seed), lambda: kmeans_assignments(x, 4, seed=seed)):
        with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 2147483647 \(2\*\*31 - 1"):
            call()
    assert 0 <= nmi(x, y, seed=2**31 - 1) <= 1


# ---- 3. model options ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, expected", [
    ("{hidden: 5}", "model_options: hidden must be a list of integers >= 1, got 5"),
    ("{hidden: [64, x]}", "model_options: hidden must be a list of integers >= 1, got [64, 'x']"),
    ("{in_features: 10}", "model_options: in_features=10 does not match the data: an item of digits holds 64 "
                          "values"),
])
def test_malformed_model_options_fail_before_the_run_folder(tmp_path, capsys, option, expected):
    status = main(_train(f"model_options={option}", f"output_dir={tmp_path / 'run'}"))
    one_line(capsys, "train", status, expected)
    assert not (tmp_path / "run").exists()


def test_small_cnn_in_channels_that_do_not_match_fail_before_the_run_folder(tmp_path, capsys):
    status = main(_train("model=small_cnn", "model_options={in_channels: 3}", "dataset=glyphs",
                         f"output_dir={tmp_path / 'run'}"))
    one_line(capsys, "train", status, "model_options: in_channels=3 does not match the data: an item of glyphs "
                                      "has 1 channel")
    assert not (tmp_path / "run").exists()


def test_mlp_names_a_bad_hidden():
    from psviz.models import MLPEmbedder

    for hidden in (5, "64", [64, 0], [64, 2.5], None):
        with pytest.raises((ValueError, TypeError), match="hidden must be a list of integers >= 1"):
            MLPEmbedder(8, 4, hidden=hidden)
    assert MLPEmbedder(8, 4, hidden=[]).embedding_dim == 4


# ---- 4. files and disks --------------------------------------------------------------------------------------------


def _digits_run(where: Path, *settings: str) -> list[str]:
    return _train("epochs=2", "eval_every=1", f"output_dir={where}", *settings)


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".psviz.lock"}


@pytest.mark.slow
def test_a_full_disk_while_saving_a_checkpoint_is_one_line_and_loses_nothing(tmp_path, capsys, monkeypatch):
    import torch

    from psviz.train import load_checkpoint

    run = tmp_path / "run"
    assert main(_digits_run(run, "epochs=1")) == 0  # epoch 1 saved: last.pt, best.pt, history.json
    before = _snapshot(run)
    real_save = torch.save

    def full_disk(state, file, *args, **kwargs):  # what torch raises when the disk fills mid-write
        file.write(b"PK\x03\x04 a few bytes")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    monkeypatch.setattr(torch, "save", full_disk)
    capsys.readouterr()
    status = main([*_digits_run(run), "--resume"])
    err = one_line(capsys, "train", status, f"cannot write the checkpoint {run / 'last.pt'}")
    assert "disk full?" in err and "nothing already saved is lost" in err and "--resume" in err
    assert "enforce fail" in err  # torch's own words, for the record
    after = _snapshot(run)
    assert after.keys() == before.keys()  # no temporary file left behind
    for name in ("last.pt", "best.pt", "history.json"):
        assert after[name] == before[name], name
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
    monkeypatch.setattr(torch, "save", real_save)  # space freed: --resume finishes the run
    assert main([*_digits_run(run), "--resume"]) == 0
    assert load_checkpoint(run / "last.pt")["epoch"] == 2


def test_a_full_disk_in_the_library_is_an_oserror_naming_the_checkpoint(tmp_path, monkeypatch):
    import errno

    from psviz.base.files import atomic_write
    from psviz.train import checkpoint

    def no_space(path, write, sync=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "atomic_write", no_space)
    with pytest.raises(OSError, match=r"cannot write the checkpoint .*last\.pt \(disk full\?"):
        checkpoint.save_checkpoint({"model": {}}, tmp_path / "last.pt")
    monkeypatch.setattr(checkpoint, "atomic_write", atomic_write)
    monkeypatch.setattr(checkpoint.torch, "save", lambda *a: (_ for _ in ()).throw(RuntimeError("not the disk")))
    with pytest.raises(RuntimeError, match="^not the disk$"):  # another failure is left as it is
        checkpoint.save_checkpoint({"model": {}}, tmp_path / "last.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_config_yaml_loads_from_the_checkpoint_with_one_warning(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(_digits_run(run, "epochs=1")) == 0
    for damage in (b"\x00\xff\xfe garbage", b"lr: [unclosed\n", b"epochs: 1\nnot_a_key: 3\n"):
        (run / "config.yaml").write_bytes(damage)
        capsys.readouterr()
        assert main(["evaluate", str(run), "--no-progress"]) == 0
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith(f"psviz evaluate: warning: {run / 'config.yaml'} cannot be read (")
        assert "using the config stored in best.pt" in lines[0]
        assert "unseen/map@r" in out
    from psviz.train import load_run
    from psviz.train.reopen import RunFolderWarning

    with pytest.warns(RunFolderWarning, match="cannot be read"):
        assert load_run(run).config.epochs == 1


def test_config_yaml_is_written_atomically(tmp_path, monkeypatch):
    import os

    path = tmp_path / "config.yaml"
    TrainConfig(epochs=3).to_yaml(path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("killed before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        TrainConfig(epochs=4).to_yaml(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


@pytest.fixture
def small_cub(tmp_path_factory) -> Path:
    from psviz.data.fake_cub import write_cub_layout

    return write_cub_layout(tmp_path_factory.mktemp("cub"), classes=6, per_class=4, size=(40, 30))


def _cub_run(cub: Path, where: Path, *settings: str) -> list[str]:
    return _train("dataset=cub200", f"root={cub}", "image_size=16", "model_options={hidden: [8]}",
                  "embedding_dim=4", "batch_size=4", "ks=[1]", "epochs=1", f"output_dir={where}", *settings)


def test_a_folder_in_the_way_of_the_decoded_cache_is_named(small_cub, tmp_path, capsys, monkeypatch):
    from psviz.data import load
    from psviz.data.decoded_cache import SUBFOLDER, decoded_split
    from psviz.data.transforms import resize_size

    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path / "cache"))
    learn = decoded_split(load("cub200", "seen", root=small_cub), resize_size(16), folder=tmp_path / "learn",
                          progress=False)
    in_the_way = tmp_path / "cache" / SUBFOLDER / learn.pixels_path.name
    in_the_way.mkdir(parents=True)
    status = main(_cub_run(small_cub, tmp_path / "run", "image_cache=decoded"))
    err = one_line(capsys, "train", status, str(in_the_way))
    assert ".tmp" not in err and "folder" in err, err
    assert not (tmp_path / "run").exists()
    assert sorted(p.name for p in in_the_way.parent.iterdir() if not p.name.endswith(".lock")) == [
        in_the_way.name]  # no temporary file left behind


def test_a_bad_image_read_in_a_loader_worker_is_its_own_message(small_cub, tmp_path, capsys):
    bad = sorted((small_cub / "images").rglob("*.jpg"))[1]  # not the first: build reads that one here to size the MLP
    bad.write_bytes(b"these bytes are not a JPEG")
    status = main(_cub_run(small_cub, tmp_path / "run", "num_workers=1"))
    err = one_line(capsys, "train", status, f"cub200: cannot read image {bad}: cannot identify image file")
    assert "worker" not in err and "File " not in err, err


@pytest.mark.slow
def test_a_loader_worker_error_keeps_its_type_and_message():
    import torch

    from psviz.train.batches import loader

    class Broken(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            if index == 2:
                raise KeyError(f"item {index}\nhas a second line")
            return torch.zeros(2), 0

    with pytest.raises(KeyError) as caught:
        list(loader(Broken(), [[0, 1], [2, 3]], num_workers=1))
    assert caught.value.args == ("item 2\nhas a second line",)
    Broken.__getitem__ = lambda self, index: (_ for _ in ()).throw(ValueError(f"item {index}:\n  two lines"))
    with pytest.raises(ValueError) as caught:
        list(loader(Broken(), [[0, 1], [2, 3]], num_workers=1))
    assert caught.value.args == ("item 0:\n  two lines",)


# ---- 5. Ctrl-C -----------------------------------------------------------------------------------------------------


def test_interrupted_travels_between_processes():
    import pickle

    from psviz.train.signals import Interrupted

    for signum in (signal.SIGINT, signal.SIGTERM):
        stop = Interrupted(signum)
        stop.note = "kept"
        back = pickle.loads(pickle.dumps(stop))
        assert type(back) is Interrupted and back.signum == signum and back.args == (signal.Signals(signum).name,)
        assert back.note == "kept"


class Demo:
    """`psviz demo` at a test size in a session of its own, its stdout read as it comes."""

    def __init__(self, where: Path):
        import subprocess
        import sys
        import threading

        self.where = where
        self.process = subprocess.Popen(
            [sys.executable, "-m", "psviz", "demo", "--output-dir", str(where), "--seeds", "2", "--epochs", "1",
             "--no-figures", "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def wait_for(self, ready, timeout: float = 300) -> None:
        import time

        deadline = time.time() + timeout
        while not ready() and self.process.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert self.process.poll() is None, (self.lines, self.process.stderr.read())
        assert ready(), f"not ready after {timeout} s: {self.lines}"

    def ctrl_c(self) -> tuple[float, str]:
        """SIGINT to the demo's whole process group, as a terminal's Ctrl-C: (seconds until it exits, stderr)."""
        import os
        import time

        sent = time.time()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            err = self.process.stderr.read()
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.reader.join(timeout=10)
        return time.time() - sent, err


def _assert_stopped(demo: Demo, seconds: float, err: str) -> None:
    assert demo.process.returncode == 130, (demo.lines, err)
    assert seconds < 10, f"{seconds:.1f} s to stop"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert lines[0].startswith("psviz demo: interrupted; runs finished so far are kept"), err
    assert str(demo.where / "toy" / "runs") in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("part, delay", [("== 1.", 3.0), ("== 2.", 0.5)],
                         ids=["training the toy runs", "starting the glyphs pair's workers"])
def test_ctrl_c_while_the_demo_trains_or_starts_workers_stops_in_seconds(tmp_path, part, delay):
    import time

    demo = Demo(tmp_path / "demo")
    demo.wait_for(lambda: any(line.startswith(part) for line in demo.lines))
    time.sleep(delay)  # the pool's workers are starting (importing torch) or training
    _assert_stopped(demo, *demo.ctrl_c())
    if part == "== 1.":
        assert not any(line.startswith("== 2.") for line in demo.lines)


@pytest.mark.slow
def test_ctrl_c_while_the_demo_trains_its_glyphs_pair_saves_both_runs(tmp_path):
    import time

    from psviz.train import load_checkpoint

    demo = Demo(tmp_path / "demo")
    arms = [tmp_path / "demo" / "glyphs" / name for name in ("baseline", "with_ps")]
    demo.wait_for(lambda: all((arm / "config.yaml").is_file() for arm in arms))
    time.sleep(1)  # both inside their (first and only) epoch
    _assert_stopped(demo, *demo.ctrl_c())
    for arm in arms:
        state = load_checkpoint(arm / "last.pt")  # each worker saved where its run stood
        assert state["epoch"] == 0 and state["step"] > 0, arm
    assert len(list((tmp_path / "demo" / "toy" / "runs").glob("*.json"))) == 4  # the toy runs, stored
