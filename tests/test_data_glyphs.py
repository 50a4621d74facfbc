"""The glyphs dataset: built once from matplotlib's fonts into a temporary cache, then split, reused and checked."""

import contextlib
import io
import os
import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from psviz import data
from psviz.data import glyphs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real build into a fresh cache folder, shared by the tests of this module (it takes seconds)."""
    folder = tmp_path_factory.mktemp("psviz-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PSVIZ_CACHE", str(folder))
        message = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stderr(message):
            seen = glyphs.load_glyphs("seen")
        seconds = time.perf_counter() - start
        path = glyphs.glyphs_path()
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files}
        print(f"\nglyphs: {arrays['codepoints'].size} classes, {arrays['labels'].size} images, built in "
              f"{seconds:.1f}s, {path.stat().st_size / 1e6:.1f} MB")
        yield SimpleNamespace(folder=folder, path=path, message=message.getvalue(), arrays=arrays,
                              seen=seen, unseen=glyphs.load_glyphs("unseen"))


def fake_build(min_fonts=glyphs.MIN_FONTS):
    """A tiny stand-in for `build_glyphs` (4 classes x 2 images), for tests of the cache that need no rendering."""
    images = np.zeros((8, 1, glyphs.SIZE, glyphs.SIZE), np.uint8)
    images[:, :, 8:24, 8:24] = 200
    return {"images": images, "labels": np.repeat(np.arange(4), 2), "codepoints": np.array([65, 66, 67, 68], np.int32),
            "fonts": np.array(["DejaVuSans", "STIXGeneral"] * 4)}


@pytest.mark.slow
def test_first_load_builds_says_so_and_caches_one_file(built):
    match = re.search(r"psviz: built glyphs dataset \((\d+) classes, (\d+) images\) in [\d.]+s, cached at (.+)$",
                      built.message.strip())
    assert match, built.message
    assert (int(match[1]), int(match[2])) == (built.arrays["codepoints"].size, built.arrays["labels"].size)
    assert match[3] == str(built.path) and built.path.name == f"glyphs-v{glyphs.VERSION}.npz"
    assert os.listdir(built.folder) == [built.path.name]  # atomic write: no temporary file left behind
    assert set(built.arrays) == {"images", "labels", "codepoints", "fonts"}  # its time: benchmarks/bench_demo.py


def test_size_and_per_class_counts(built):
    images, labels, codepoints = built.arrays["images"], built.arrays["labels"], built.arrays["codepoints"]
    assert 1500 <= codepoints.size <= 4000  # 2,836 classes with matplotlib 3.11
    assert images.shape == (labels.size, 1, 32, 32) and images.dtype == np.uint8
    assert np.all(np.diff(codepoints) > 0) and np.array_equal(np.unique(labels), np.arange(codepoints.size))
    counts = np.bincount(labels)
    assert counts.min() >= glyphs.MIN_FONTS and counts.max() <= len(glyphs.font_files())
    # One image per font per class.
    pairs = {(label, font) for label, font in zip(labels.tolist(), built.arrays["fonts"].tolist())}
    assert len(pairs) == labels.size
    assert set(built.arrays["fonts"].tolist()) <= {path.stem for path in glyphs.font_files()}
    assert not any(name.startswith("LastResort") for name in built.arrays["fonts"].tolist())


def test_images_are_centred_glyphs_that_fill_the_box(built):
    images = built.arrays["images"][:, 0]
    ink = images.reshape(len(images), -1).astype(np.int64).sum(axis=1)
    assert ink.min() >= 2 * 255  # no blank renderings
    assert 20 < images.mean() < 80  # ink on a black background: mostly empty, not mostly full
    assert images.max() == 255 and np.all(images[:, [0, -1], :] == 0) and np.all(images[:, :, [0, -1]] == 0)
    rows, cols = images.any(axis=2), images.any(axis=1)
    height = images.shape[1] - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    width = images.shape[2] - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    assert np.median(np.maximum(height, width)) >= 20  # glyphs fill most of the box
    # Centred: the ink box's margins on opposite sides differ by at most one pixel.
    assert np.abs(rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)).max() <= 1
    assert np.abs(cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)).max() <= 1


def test_lookalikes_keep_the_lowest_code_point(built):
    codepoints = set(built.arrays["codepoints"].tolist())
    assert {0x41, 0x4F, 0x30, 0x61, 0x3B1, 0x416} <= codepoints  # A, O, 0, a, Greek alpha, Cyrillic Zhe stay
    for dropped in (0x391, 0x410, 0x39F, 0x41E, 0x430, 0x435, 0x212A, 0x2160):  # Greek/Cyrillic A and O, Cyrillic
        assert dropped not in codepoints, hex(dropped)  # a and e, Kelvin sign, Roman numeral one
    labels, codes = built.arrays["labels"], built.arrays["codepoints"]
    pixels = built.arrays["images"].reshape(labels.size, -1).astype(np.float64) / 255
    means = np.zeros((codes.size, pixels.shape[1]))
    np.add.at(means, labels, pixels)
    means /= np.bincount(labels)[:, None]
    squares = (means * means).sum(axis=1)
    distance = squares[:, None] + squares[None, :] - 2 * means @ means.T
    np.fill_diagonal(distance, np.inf)
    rms = np.sqrt(np.maximum(distance.min(), 0) / pixels.shape[1])
    assert rms > 0.01, rms  # no two classes with near-identical mean images (closest pair about 0.016)


def test_computer_modern_counts_only_glyphs_named_for_their_code(built):
    labels, codes, fonts = built.arrays["labels"], built.arrays["codepoints"], built.arrays["fonts"]

    def fonts_of(char):
        return set(fonts[labels == np.searchsorted(codes, ord(char))].tolist())

    assert {"cmr10", "cmmi10", "cmsy10"} <= fonts_of("A")  # their A is an A (calligraphic in cmsy10)
    assert "cmsy10" not in fonts_of("0") and "cmsy10" not in fonts_of("!")  # a prime and an arrow sit there
    assert "cmex10" not in set(fonts.tolist())  # big delimiters only, none where its cmap says


def test_splits_are_disjoint_halves_with_contiguous_labels(built):
    seen, unseen = built.seen, built.unseen
    n_classes = built.arrays["codepoints"].size
    assert not set(seen.class_names) & set(unseen.class_names)
    assert seen.n_classes + unseen.n_classes == n_classes and seen.n_classes - unseen.n_classes in (0, 1)
    assert len(seen) + len(unseen) == built.arrays["labels"].size
    for split in (seen, unseen):
        assert split.name == "glyphs" and split.data.dtype == torch.uint8 and split.data.shape[1:] == (1, 32, 32)
        assert torch.equal(torch.unique(split.targets), torch.arange(split.n_classes))
        assert min(torch.bincount(split.targets).tolist()) >= glyphs.MIN_FONTS
    # Seen: a seeded random half of the classes (the larger half when their number is odd), in code point order.
    codes = built.arrays["codepoints"]
    chosen = np.sort(np.random.default_rng(0).permutation(n_classes)[: (n_classes + 1) // 2])
    assert seen.class_names == [f"{chr(c)} (U+{c:04X})" for c in codes[chosen].tolist()]
    assert "A (U+0041)" in seen.class_names + unseen.class_names
    x, y = seen[0]
    assert x.dtype == torch.float32 and x.shape == (1, 32, 32) and 0 <= x.min() and x.max() <= 1
    cached = built.arrays["images"][built.arrays["labels"] == chosen[y]]
    assert any(np.array_equal(image, seen.data[0].numpy()) for image in cached)


def test_split_seed_changes_the_split_and_the_registry_loads_it(built, monkeypatch):
    monkeypatch.setenv("PSVIZ_CACHE", str(built.folder))
    other = glyphs.load_glyphs("seen", split_seed=1)
    assert other.class_names != built.seen.class_names
    assert set(other.class_names) | set(glyphs.load_glyphs("unseen", split_seed=1).class_names) == set(
        built.seen.class_names) | set(built.unseen.class_names)
    again = data.load("glyphs", "seen")
    assert again.class_names == built.seen.class_names and torch.equal(again.data, built.seen.data)
    assert torch.equal(again.targets, built.seen.targets)


def test_cache_is_reused_not_rebuilt(built, monkeypatch):
    monkeypatch.setenv("PSVIZ_CACHE", str(built.folder))
    modified = built.path.stat().st_mtime_ns

    def no_build(*args, **kwargs):
        raise AssertionError("the cache should have been read, not rebuilt")

    monkeypatch.setattr(glyphs, "build_glyphs", no_build)
    split = glyphs.load_glyphs("unseen")
    assert split.class_names == built.unseen.class_names and built.path.stat().st_mtime_ns == modified


@pytest.mark.slow
def test_build_is_deterministic(built):
    again = glyphs.build_glyphs()
    assert set(again) == set(built.arrays)
    for key, value in again.items():
        assert value.dtype == built.arrays[key].dtype and np.array_equal(value, built.arrays[key]), key


@pytest.mark.parametrize("content", ["garbage", "wrong keys", "bad labels"])
def test_unreadable_cache_is_rebuilt_with_a_message(tmp_path, monkeypatch, capsys, content):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    monkeypatch.setattr(glyphs, "build_glyphs", fake_build)
    path = glyphs.glyphs_path()
    if content == "garbage":
        path.write_bytes(b"not an npz file")
    elif content == "wrong keys":
        np.savez_compressed(path, something=np.zeros(3))
    else:
        np.savez_compressed(path, **{**fake_build(), "labels": np.full(8, 7)})
    split = glyphs.load_glyphs("seen")
    err = capsys.readouterr().err
    assert f"cannot read the glyphs cache at {path}" in err and "rebuilding it" in err
    assert "psviz: built glyphs dataset (4 classes, 8 images)" in err
    assert split.n_classes == 2 and len(split) == 4 and sorted(os.listdir(tmp_path)) == [path.name]
    with np.load(path) as stored:
        assert np.array_equal(stored["codepoints"], [65, 66, 67, 68])


def test_rebuild_option_and_failed_write_leave_the_cache_whole(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    calls = []
    monkeypatch.setattr(glyphs, "build_glyphs", lambda min_fonts: calls.append(min_fonts) or fake_build())
    glyphs.load_glyphs("seen")
    glyphs.load_glyphs("seen")
    assert calls == [8]
    glyphs.load_glyphs("unseen", rebuild=True)
    assert calls == [8, 8] and capsys.readouterr().err.count("psviz: built glyphs dataset") == 2
    before = glyphs.glyphs_path().read_bytes()

    def broken_save(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken_save)
    with pytest.raises(OSError, match="disk full"):
        glyphs.load_glyphs("seen", rebuild=True)
    assert os.listdir(tmp_path) == [glyphs.glyphs_path().name]  # the temporary file is gone
    assert glyphs.glyphs_path().read_bytes() == before  # and the old cache untouched


def test_min_fonts_has_its_own_cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    assert glyphs.glyphs_path(12) == tmp_path / f"glyphs-v{glyphs.VERSION}-min12.npz"
    assert glyphs.glyphs_path() == tmp_path / f"glyphs-v{glyphs.VERSION}.npz"
    calls = []
    monkeypatch.setattr(glyphs, "build_glyphs", lambda min_fonts: calls.append(min_fonts) or fake_build())
    glyphs.load_glyphs("seen", min_fonts=12)
    assert calls == [12] and (tmp_path / f"glyphs-v{glyphs.VERSION}-min12.npz").is_file()


@pytest.mark.parametrize("options, message", [
    (dict(split="test"), "split must be 'seen' or 'unseen'"),
    (dict(min_fonts=1), "min_fonts must be an integer >= 2"),
    (dict(min_fonts=8.0), "min_fonts must be an integer >= 2"),
    (dict(min_fonts=True), "min_fonts must be an integer >= 2"),
    (dict(min_fonts=1000), "min_fonts must be at most"),
    (dict(split_seed=-1), "split_seed must be an integer >= 0"),
    (dict(split_seed="0"), "split_seed must be an integer >= 0"),
    (dict(split_seed=0.5), "split_seed must be an integer >= 0"),
])
def test_bad_arguments(tmp_path, monkeypatch, options, message):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    monkeypatch.setattr(glyphs, "build_glyphs", fake_build)
    with pytest.raises(ValueError, match=message):
        glyphs.load_glyphs(**options)
    assert os.listdir(tmp_path) == []  # rejected before anything is built or written


def test_bad_arguments_elsewhere():
    with pytest.raises(ValueError, match="min_fonts must be an integer >= 2"):
        glyphs.build_glyphs(min_fonts=0)
    with pytest.raises(ValueError, match="min_fonts must be an integer >= 2"):
        glyphs.glyphs_path(min_fonts="8")
    with pytest.raises(ValueError, match="no split 'test'"):
        data.load("glyphs", "test")
