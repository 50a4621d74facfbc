"""Damaged or out-of-range inputs give a clear message, not a traceback: the glyphs cache, a huge mu, a file that
is not an embedding export, and tampered run records."""

import json
import struct
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
import torch

from psviz import synthesis
from psviz.apps.cli import main
from psviz.apps.reproduce import Plan
from psviz.data import glyphs
from psviz.method.synthesis import ProxySynthesis, proxy_synthesis
from psviz.train.export import EmbeddingExport
from psviz.train.records import RecordStore, run_record

# ---- helpers ------------------------------------------------------------------------------------------------------


def member_data(path, member):
    """(start, length) of ``member``'s compressed bytes inside the zip at ``path``."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    raw = path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


def read_all(path):
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


def flip_64_bytes(path, member, error):
    """Flip 64 bytes in the middle of ``member``'s compressed data, at the first offset from the middle where
    reading the file then raises ``error`` (zlib.error or a bad CRC, depending on where the damage lands)."""
    good = path.read_bytes()
    start, length = member_data(path, member)
    assert length > 256, "the member is too small to damage in its middle"
    for offset in range(start + length // 2 - 32, start + length - 64, 8):
        damaged = bytearray(good)
        damaged[offset: offset + 64] = bytes(b ^ 0xFF for b in damaged[offset: offset + 64])
        path.write_bytes(bytes(damaged))
        try:
            read_all(path)
        except error:
            return
        except Exception:  # another kind of damage: try the next offset
            pass
    raise AssertionError(f"no 64-byte window of {member} in {path} gives {error}")


# ---- 1. a damaged glyphs cache is rebuilt --------------------------------------------------------------------------


def small_glyphs(min_fonts=glyphs.MIN_FONTS):
    """A stand-in for `build_glyphs`: 16 classes x 2 images with varied ink, so that the images compress into a
    deflate stream long enough to damage in its middle."""
    rng = np.random.default_rng(0)
    images = (rng.integers(0, 16, (32, 1, glyphs.SIZE, glyphs.SIZE)) * 16).astype(np.uint8)
    return {"images": images, "labels": np.repeat(np.arange(16), 2),
            "codepoints": np.arange(65, 81, dtype=np.int32), "fonts": np.array(["DejaVuSans", "STIXGeneral"] * 16)}


@pytest.mark.parametrize("damage", [zlib.error, zipfile.BadZipFile], ids=["zlib-error", "bad-crc"])
def test_a_glyphs_cache_with_flipped_bytes_is_rebuilt_with_a_message(tmp_path, monkeypatch, capsys, damage):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    builds = []
    monkeypatch.setattr(glyphs, "build_glyphs", lambda min_fonts: builds.append(min_fonts) or small_glyphs())
    glyphs.load_glyphs("seen")
    path = glyphs.glyphs_path()
    assert builds == [glyphs.MIN_FONTS] and path.is_file()
    flip_64_bytes(path, "images.npy", damage)
    capsys.readouterr()

    split = glyphs.load_glyphs("seen")

    assert split.n_classes == 8 and len(split) == 16
    assert split[0][0].shape == (1, glyphs.SIZE, glyphs.SIZE)
    assert builds == [glyphs.MIN_FONTS] * 2
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "cannot read" in line]
    assert line.startswith(f"psviz: cannot read the glyphs cache at {path} (")
    assert damage.__name__ in line and line.endswith("; rebuilding it")
    assert "psviz: built glyphs dataset (16 classes, 32 images)" in err
    stored = read_all(path)  # the file on disk is whole again
    for key, value in small_glyphs().items():
        assert np.array_equal(stored[key], value), key


# ---- 2. a mu whose synthetic rows cannot fit -----------------------------------------------------------------------


def test_a_mu_too_big_for_memory_is_refused_with_its_size_before_anything_is_drawn(monkeypatch):
    def no_pairing(*args, **kwargs):
        raise AssertionError("the size must be refused before pairs are drawn")

    monkeypatch.setattr(synthesis, "random_partner", no_pairing)
    e, p, y = torch.randn(256, 512), torch.randn(100, 512), torch.arange(256) % 100
    with pytest.raises(ValueError) as caught:
        proxy_synthesis(e, p, y, mu=1e12)
    message = str(caught.value)
    # 2.56e14 rows of 512 float32 embeddings and 512 float32 proxies: 4096 bytes a row
    assert "mu=1e+12 asks for 256,000,000,000,000 synthetic rows" in message
    assert "(1,048,576,000,000,000,000 bytes)" in message and "931.3 PiB" in message
    assert "torch.float32" in message and "[256,000,000,000,000, 512]" in message
    module = ProxySynthesis(alpha=0.4, mu=1e12)  # the size depends on the batch: the call refuses, not the module
    with pytest.raises(ValueError, match="256,000,000,000,000 synthetic rows"):
        module(e, p, y)


def test_the_memory_limit_counts_dtype_and_proxy_centres(monkeypatch):
    monkeypatch.setattr(synthesis, "_memory_bytes", lambda device: 1 << 20)  # a device with 1 MiB
    e, y = torch.randn(8, 16, dtype=torch.float64), torch.arange(8) % 4
    p = torch.randn(4, 3, 16, dtype=torch.float64)  # 3 centres a class: a synthetic proxy row is 3 x 16
    row_bytes = 16 * 8 + 3 * 16 * 8  # 512
    fits = (1 << 20) // row_bytes  # 2048 rows, mu = 256 for B = 8
    out = proxy_synthesis(e, p, y, mu=fits / 8, generator=torch.Generator().manual_seed(0))
    assert out.n_synthetic == fits
    with pytest.raises(ValueError) as caught:
        proxy_synthesis(e, p, y, mu=(fits + 8) / 8)
    message = str(caught.value)
    assert f"{fits + 8:,} synthetic rows" in message and f"({(fits + 8) * row_bytes:,} bytes)" in message
    assert f"[{fits + 8:,}, 3, 16] (torch.float64)" in message and "1.0 MiB of memory on cpu" in message
    assert f"at most {fits:,} synthetic rows fit" in message


# ---- 3. a file that is not an embedding export ---------------------------------------------------------------------


def small_export():
    return EmbeddingExport(torch.randn(40, 8), torch.arange(40) % 4, np.array(["seen"] * 20 + ["unseen"] * 20),
                           torch.randn(4, 8), {"seen": ["a", "b", "c", "d"]})


def test_loading_an_npz_without_the_export_keys_names_the_file_and_the_missing_keys(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, embeddings=np.zeros((3, 2), np.float32), weights=np.zeros(3))
    with pytest.raises(ValueError) as caught:
        EmbeddingExport.load(path)
    message = str(caught.value)
    assert str(path) in message and "lacks labels, splits, proxies (it holds embeddings, weights)" in message
    assert "holding embeddings [N, d], labels [N], splits [N] and proxies" in message and "\n" not in message


@pytest.mark.parametrize("kind", ["text", "npy", "empty", "truncated", "damaged member", "object array"])
def test_loading_a_file_that_is_not_an_npz_or_is_damaged_gives_a_one_line_value_error(tmp_path, kind):
    path = small_export().save(tmp_path / "export.npz")
    assert len(EmbeddingExport.load(path).labels) == 40  # a good export still loads
    if kind == "text":
        path.write_text("embeddings,labels\n0.1,3\n")
    elif kind == "npy":
        with open(path, "wb") as file:
            np.save(file, np.zeros(3))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind == "damaged member":
        flip_64_bytes(path, "embeddings.npy", Exception)
    else:
        np.savez(path, embeddings=np.array([1, None], dtype=object), labels=np.zeros(2), splits=np.zeros(2),
                 proxies=np.zeros((1, 2)))
    with pytest.raises(ValueError) as caught:
        EmbeddingExport.load(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert "an export is an .npz written by EmbeddingExport.save" in message


# ---- 4. tampered run records ---------------------------------------------------------------------------------------


def hand_history(map_r=0.5):
    """Two epochs, the second evaluated on the unseen classes, as `fit` writes them."""
    return [{"epoch": 1, "loss": 2.0, "lr": 1e-3, "proxy_lr": 1e-2, "seconds": 0.1},
            {"epoch": 2, "loss": 1.5, "lr": 1e-3, "proxy_lr": 1e-2, "seconds": 0.1, "unseen/recall@1": map_r + 0.2,
             "unseen/r_precision": map_r + 0.1, "unseen/map@r": map_r, "unseen/n_queries": 50,
             "unseen/n_skipped": 0}]


def set_history_value(record):
    record["history"][1]["unseen/map@r"] = "0.5"


def drop_history_epoch(record):
    del record["history"][0]["epoch"]


TAMPERINGS = {
    "metric string": lambda r: r["metrics"].update({"map@r": "abc"}),
    "history string": set_history_value,
    "history without epoch": drop_history_epoch,
    "config number": lambda r: r.update(config=5),
    "config wrong type": lambda r: r["config"].update(seed="zero"),
    "config key missing": lambda r: r["config"].pop("dataset"),
    "record key missing": lambda r: r.pop("metrics"),
    "list for dict": lambda r: r.update(metrics=[0.5, 0.6]),
    "history dict": lambda r: r.update(history={"epoch": 1}),
    "seconds string": lambda r: r.update(seconds="1 s"),
    "measures string": lambda r: r.update(measures={"transition_width": "wide"}),
    "not an object": lambda r: None,  # replaced by a list below
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_record_with_wrong_types_is_skipped_with_a_line_naming_the_file(tmp_path, capsys, tampering):
    good_config, bad_config = [job.config for job in Plan.tiny().small_jobs()[:2]]
    store = RecordStore(tmp_path / "runs")
    good = run_record(good_config, hand_history(), seconds=1.0, measures={"transition_width": 0.3})
    store.write(good_config, good)
    bad = run_record(bad_config, hand_history(0.6), seconds=1.0, measures={"transition_width": 0.3})
    TAMPERINGS[tampering](bad)
    store.write(bad_config, [bad] if tampering == "not an object" else bad)
    assert json.loads(store.path(bad_config).read_text()) is not None  # valid JSON: only its values are wrong

    assert store.read(good_config) == json.loads(json.dumps(good))
    assert store.read(bad_config) is None and not store.has(bad_config)  # not stored: training redoes it
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines  # read twice, reported once
    assert lines[0].startswith(f"psviz: skipping the run record {store.path(bad_config)} (")
    assert lines[0].endswith("it counts as not stored, so training redoes that run")


def test_report_only_over_a_store_with_a_tampered_record_writes_the_report_from_the_others(tmp_path, capsys):
    plan = Plan.tiny()
    jobs = plan.small_jobs()
    baseline = next(j.config for j in jobs if not j.config.ps)
    with_ps = next(j.config for j in jobs if j.config.ps and j.config.loss == baseline.loss
                   and j.config.seed == baseline.seed)
    tampered = next(j.config for j in jobs if j.config.loss != baseline.loss)
    store = RecordStore(tmp_path / "small" / "runs")
    store.write(baseline, run_record(baseline, hand_history(0.5), seconds=1.0))
    store.write(with_ps, run_record(with_ps, hand_history(0.6), seconds=1.0))
    bad = run_record(tampered, hand_history(0.7), seconds=1.0)
    bad["metrics"]["map@r"] = "abc"
    store.write(tampered, bad)

    assert main(["reproduce", "--tiny", "--report-only", "--results-dir", str(tmp_path / "small"),
                 "--doc", str(tmp_path / "RESULTS.md"), "--images", str(tmp_path / "images"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"psviz: skipping the run record {store.path(tampered)} (metrics must hold numbers, got 'abc'" in err
    text = (tmp_path / "RESULTS.md").read_text()
    assert "INCOMPLETE: 2 of 27 planned runs are stored" in text
    runs = pd.read_csv(tmp_path / "small" / "runs.csv")
    assert set(runs["loss"]) == {baseline.loss} and sorted(runs["map@r"]) == [50.0, 60.0]
