"""The generated CUB folder and the decoded image cache (psviz.data.fake_cub, psviz.data.decoded_cache).

"The plain path's images" means here: PIL's decode of the file, converted to RGB, then torchvision's
`v2.functional.resize` to a shorter side of ``RESIZE`` (bilinear, antialiased) on the uint8 tensor, which is what the
plain path's test transform does before its centre crop. The cache must give those pixels exactly, and with the test
transform the two paths must give equal tensors. PIL's own bilinear resize is a second, independent reference, within
one grey level.
"""

import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as F

from psviz import data
from psviz.data import decoded_cache
from psviz.data.benchmarks import load_cub200
from psviz.data.decoded_cache import DecodedImageSplit, cache_key, decoded_split, read_index, resized_size
from psviz.data.fake_cub import MARKER, class_ids, ensure_cub_layout, image_sizes, write_cub_layout
from psviz.data.transforms import image_transform
from psviz.train import TrainConfig, fit
from psviz.train.build import build_datasets, eval_copy
from psviz.train.records import run_key
from psviz.train.run_folder import RESUMABLE

CLASSES, PER_CLASS, SIZE = 6, 4, (80, 60)  # 3 seen and 3 unseen classes of 4 images, about 80 x 60 pixels
CROP = 28  # image_transform(.., CROP) resizes to round(28 * 256 / 224) = 32 before its centre crop
RESIZE = 32


@pytest.fixture(scope="module")
def cub(tmp_path_factory) -> Path:
    """A generated CUB folder shared by the read-only tests."""
    return write_cub_layout(tmp_path_factory.mktemp("cub"), classes=CLASSES, per_class=PER_CLASS, size=SIZE)


@pytest.fixture
def own_cub(tmp_path_factory) -> Path:
    """A generated CUB folder a test may change (outside tmp_path, which the tests use for caches)."""
    return write_cub_layout(tmp_path_factory.mktemp("own"), classes=2, per_class=3, size=SIZE)


def plain_resized(path: Path, resize: int = RESIZE) -> torch.Tensor:
    with Image.open(path) as image:
        return F.resize(F.to_image(image.convert("RGB")).as_subclass(torch.Tensor), [resize], antialias=True)


def count_decodes(monkeypatch) -> list:
    calls = []
    real = decoded_cache.decode_resized

    def counting(path, resize, draft=False):
        calls.append(Path(path))
        return real(path, resize, draft)

    monkeypatch.setattr(decoded_cache, "decode_resized", counting)
    return calls


# --- the generated folder ---------------------------------------------------------------------------------------

def test_generated_folder_loads_with_the_cub_loader(cub):
    seen, unseen = load_cub200("seen", root=cub.parent), load_cub200("unseen", root=cub)
    assert (len(seen), len(unseen)) == (3 * PER_CLASS, 3 * PER_CLASS)
    assert seen.class_names == [f"{i:03d}.Generated_bird_{i:03d}" for i in (1, 2, 3)]
    assert unseen.class_names == [f"{i:03d}.Generated_bird_{i:03d}" for i in (101, 102, 103)]
    assert seen.targets.tolist() == [c for c in range(3) for _ in range(PER_CLASS)]
    for path in seen.paths + unseen.paths:
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.mode == "RGB" and max(image.size) == max(SIZE)
    assert (cub / "images.txt").read_text().splitlines()[0] == \
        "1 001.Generated_bird_001/Generated_bird_001_0001.jpg"
    assert class_ids(200) == list(range(1, 201)) and class_ids(5) == [1, 2, 3, 101, 102]


def test_generated_images_are_photo_sized_varied_and_deterministic(tmp_path):
    sizes = image_sizes(2000, (500, 375), np.random.default_rng(0))
    portrait = [h > w for w, h in sizes]
    assert all(max(s) == 500 and 281 <= min(s) <= 469 for s in sizes)
    assert 0.15 < np.mean(portrait) < 0.25 and len(set(sizes)) > 100
    first = write_cub_layout(tmp_path / "a", classes=2, per_class=3)  # CUB's size: about 500 x 375
    second = write_cub_layout(tmp_path / "b", classes=2, per_class=3)
    files = sorted((first / "images").rglob("*.jpg"))
    assert len(files) == 6
    assert all(f.read_bytes() == (second / f.relative_to(first)).read_bytes() for f in files)
    assert all(20_000 < f.stat().st_size < 80_000 for f in files), [f.stat().st_size for f in files]
    with Image.open(files[0]) as image:  # not flat: grain and shapes, like a photo's detail
        assert np.asarray(image.convert("L"), dtype=float).std() > 10
    other = write_cub_layout(tmp_path / "c", classes=2, per_class=3, seed=1)
    assert files[0].read_bytes() != (other / files[0].relative_to(first)).read_bytes()


def test_ensure_reuses_a_whole_folder_and_rewrites_otherwise(tmp_path):
    folder = ensure_cub_layout(tmp_path, classes=2, per_class=2, size=SIZE)
    image = next((folder / "images").rglob("*.jpg"))
    before = image.stat()
    assert ensure_cub_layout(tmp_path, classes=2, per_class=2, size=SIZE) == folder
    assert (image.stat().st_ino, image.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    (folder / MARKER).unlink()  # as after an interrupted write
    ensure_cub_layout(tmp_path, classes=2, per_class=2, size=SIZE)
    assert image.stat().st_ino != before.st_ino and (folder / MARKER).is_file()  # written anew
    ensure_cub_layout(tmp_path, classes=2, per_class=3, size=SIZE)
    assert len(load_cub200("seen", root=tmp_path)) == 3


@pytest.mark.parametrize("change, message", [
    ({"classes": 1}, "classes must be an integer in 2..200"), ({"classes": 201}, "classes must"),
    ({"per_class": 0}, "per_class must be an integer >= 1"), ({"size": (500,)}, "size must be .width, height."),
    ({"size": (4, 4)}, "size must"), ({"quality": 100}, "quality must be a JPEG quality in 1..95"),
])
def test_generator_refuses_bad_arguments(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        write_cub_layout(tmp_path, **{"classes": 2, "per_class": 1, **change})


# --- the cache gives the plain path's images --------------------------------------------------------------------

@pytest.mark.parametrize("split", ["seen", "unseen"])
def test_cached_split_has_the_plain_splits_labels_and_images(cub, tmp_path, split):
    plain = load_cub200(split, root=cub)
    cached = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    assert isinstance(cached, DecodedImageSplit) and (cached.name, cached.split) == (plain.name, plain.split)
    assert torch.equal(cached.targets, plain.targets) and cached.class_names == plain.class_names
    assert cached.paths == plain.paths and len(cached) == len(plain)
    for i, path in enumerate(plain.paths):
        image, label = cached[i]
        assert image.dtype == torch.uint8 and min(image.shape[1:]) == RESIZE and label == int(plain.targets[i])
        assert torch.equal(image, plain_resized(path))
        with Image.open(path) as pil:  # PIL's own bilinear resize: an independent check, within one grey level
            height, width = resized_size(pil.height, pil.width, RESIZE)
            reference = torch.from_numpy(np.array(pil.convert("RGB").resize((width, height), Image.BILINEAR)))
        assert (image.permute(1, 2, 0).int() - reference.int()).abs().max() <= 1


def test_test_transform_gives_equal_tensors_and_train_transform_equal_shapes(cub, tmp_path):
    plain = load_cub200("seen", root=cub, transform=image_transform(False, CROP))
    cached = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    for i in range(len(plain)):
        assert torch.equal(plain[i][0], cached[i][0]) and plain[i][1] == cached[i][1]
    for train in (True, False):
        for style in ("imagenet", "bn_inception"):
            plain.transform = cached.transform = image_transform(train, CROP, style)
            torch.manual_seed(0)
            a = plain[1][0]
            torch.manual_seed(0)
            b = cached[1][0]
            assert a.shape == b.shape == (3, CROP, CROP) and a.dtype == b.dtype == torch.float32
            assert train or torch.equal(a, b)  # random crops differ: they cut from images of other sizes


def test_subsets_and_eval_copies_follow_the_plain_path(cub, tmp_path):
    plain = load_cub200("unseen", root=cub, transform=image_transform(False, CROP))
    cached = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    indices = [11, 0, 5, 6]
    sub_plain, sub_cached = plain.subset(indices, "part", relabel=True), cached.subset(indices, "part", relabel=True)
    assert isinstance(sub_cached, DecodedImageSplit) and sub_cached.split == "part"
    assert sub_cached.class_names == sub_plain.class_names and torch.equal(sub_cached.targets, sub_plain.targets)
    assert sub_cached.paths == sub_plain.paths and sub_cached.pixels_path == cached.pixels_path
    for i in range(len(indices)):
        assert torch.equal(sub_cached[i][0], sub_plain[i][0])
    raw = eval_copy(sub_cached, None)
    assert torch.equal(raw[0][0], plain_resized(plain.paths[11])) and sub_cached.transform is not None
    with pytest.raises(ValueError, match="cache rows must lie in"):
        DecodedImageSplit("x", "seen", cached.pixels_path, cached.index, torch.tensor([99]), torch.tensor([0]), ["a"])


def test_dataloader_workers_give_the_same_batches_as_the_main_process(cub, tmp_path):
    cached = decoded_split(load_cub200("seen", root=cub, transform=image_transform(False, CROP)), RESIZE,
                           folder=tmp_path, progress=False)
    cached[0]  # opens the memory map here: workers must not receive it
    assert len(pickle.dumps(cached)) < cached.pixels_path.stat().st_size
    assert pickle.loads(pickle.dumps(cached))._pixels is None
    batches = [[3, 1, 4], [1, 5, 9, 2], [6, 5], [11, 10, 0, 7]]
    runs = [list(torch.utils.data.DataLoader(cached, batch_sampler=batches, num_workers=n)) for n in (0, 2)]
    assert len(runs[0]) == len(runs[1]) == len(batches)
    for (x0, y0), (x2, y2) in zip(*runs):
        assert torch.equal(x0, x2) and torch.equal(y0, y2)


def test_parallel_and_draft_decodes(cub, tmp_path):
    plain = load_cub200("seen", root=cub)
    one = decoded_split(plain, RESIZE, folder=tmp_path / "one", progress=False)
    two = decoded_split(plain, RESIZE, folder=tmp_path / "two", workers=2, progress=False)
    assert one.pixels_path.read_bytes() == two.pixels_path.read_bytes()
    assert np.array_equal(one.index, two.index)
    small = decoded_split(plain, 12, folder=tmp_path, draft=True, progress=False)  # 1/4 scale decoding
    assert cache_key(plain.paths, 12, draft=True) != cache_key(plain.paths, 12)
    for i, path in enumerate(plain.paths):  # a draft may round the long side one pixel off; pixels differ a little
        image, full = small[i][0], plain_resized(path, 12)
        assert min(image.shape[1:]) == 12 and abs(max(image.shape[1:]) - max(full.shape[1:])) <= 1
        full = F.resize(full, list(image.shape[1:]), antialias=True)
        assert (image.float() - full.float()).abs().mean() < 12


# --- invalidation and interrupted builds ------------------------------------------------------------------------

def test_unchanged_files_reuse_the_cache_without_decoding(own_cub, tmp_path, monkeypatch):
    plain = load_cub200("seen", root=own_cub)
    first = decoded_split(plain, RESIZE, folder=tmp_path / "cache", progress=False)
    stamp = first.pixels_path.stat().st_mtime_ns
    calls = count_decodes(monkeypatch)
    again = decoded_split(load_cub200("seen", root=own_cub), RESIZE, folder=tmp_path / "cache", progress=False)
    assert calls == [] and again.pixels_path == first.pixels_path
    assert again.pixels_path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [first.pixels_path.name, first.pixels_path.name.replace(".pixels.", ".index.")])
    other = decoded_split(plain, RESIZE + 1, folder=tmp_path / "cache", progress=False)
    assert other.pixels_path != first.pixels_path and len(calls) == len(plain)


def _rewrite(path: Path, colour: tuple) -> None:
    """New content (a flat colour at the same size) and an mtime one second later."""
    with Image.open(path) as image:
        size = image.size
    stat = path.stat()
    Image.new("RGB", size, colour).save(path, "JPEG")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_changed_file_gives_a_new_key_and_rebuilt_content(own_cub, tmp_path, monkeypatch):
    plain = load_cub200("seen", root=own_cub)
    old = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    _rewrite(plain.paths[1], (200, 30, 30))
    calls = count_decodes(monkeypatch)
    new = decoded_split(load_cub200("seen", root=own_cub), RESIZE, folder=tmp_path, progress=False)
    assert new.pixels_path != old.pixels_path and len(calls) == len(plain)
    assert torch.equal(new[1][0], plain_resized(plain.paths[1])) and not torch.equal(new[1][0], old[1][0])
    assert torch.equal(new[0][0], old[0][0])
    touched = plain.paths[2]  # same bytes, new mtime: rebuilt as well (the key cannot see content)
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert decoded_split(plain, RESIZE, folder=tmp_path, progress=False).pixels_path != new.pixels_path


def test_added_and_removed_files_give_new_keys(own_cub, tmp_path):
    plain = load_cub200("seen", root=own_cub)
    first = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    extra = plain.paths[0].with_name("extra.jpg")
    shutil.copyfile(plain.paths[0], extra)
    for listing, line in (("images.txt", f"100 {extra.parent.name}/{extra.name}"), ("image_class_labels.txt", "100 1")):
        with (own_cub / listing).open("a") as file:
            file.write(line + "\n")
    added = decoded_split(load_cub200("seen", root=own_cub), RESIZE, folder=tmp_path, progress=False)
    assert len(added) == len(plain) + 1 and added.pixels_path != first.pixels_path
    assert torch.equal(added[len(plain)][0], first[0][0])
    removed_paths = plain.paths[1:]
    removed = data.ImageFileSplit("cub200", "seen", removed_paths, plain.targets[1:], plain.class_names)
    shortened = decoded_split(removed, RESIZE, folder=tmp_path, progress=False)
    assert len(shortened) == len(plain) - 1
    assert len({first.pixels_path, added.pixels_path, shortened.pixels_path}) == 3
    plain.paths[2].unlink()
    with pytest.raises(ValueError, match="cannot read image .*0003.jpg"):
        decoded_split(plain, RESIZE, folder=tmp_path, progress=False)


def test_an_interrupted_build_leaves_no_usable_cache(own_cub, tmp_path, monkeypatch):
    plain = load_cub200("seen", root=own_cub)
    real = decoded_cache.decode_resized

    def stopping(path, resize, draft=False):
        if path == plain.paths[2]:
            raise KeyboardInterrupt
        return real(path, resize, draft)

    monkeypatch.setattr(decoded_cache, "decode_resized", stopping)
    with pytest.raises(KeyboardInterrupt):
        decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []  # no cache file, no temporary file
    monkeypatch.setattr(decoded_cache, "decode_resized", real)
    whole = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    index_path = Path(str(whole.pixels_path).replace(".pixels.npy", ".index.npy"))
    assert read_index(whole.pixels_path, index_path, len(plain)) is not None
    data_bytes = whole.pixels_path.read_bytes()
    for damage in ("no index", "short pixels", "garbled index"):  # what a crash or a disk fault could leave
        if damage == "no index":
            index_path.unlink()
        elif damage == "short pixels":
            whole.pixels_path.write_bytes(data_bytes[:-100])
        else:
            index_path.write_bytes(b"\x93NUMPY garbage")
        assert read_index(whole.pixels_path, index_path, len(plain)) is None
        calls = count_decodes(monkeypatch)
        rebuilt = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
        monkeypatch.setattr(decoded_cache, "decode_resized", real)
        assert len(calls) == len(plain) and whole.pixels_path.read_bytes() == data_bytes
        assert torch.equal(rebuilt[2][0], plain_resized(plain.paths[2]))


def test_a_killed_build_leaves_no_usable_cache(own_cub, tmp_path):
    """A process killed (SIGKILL) in the middle of decoding leaves at most a temporary file, which is ignored."""
    script = textwrap.dedent(f"""
        import sys, time
        from psviz.data import decoded_cache
        from psviz.data.benchmarks import load_cub200
        def slow(path, resize, draft=False):
            print("decoding", flush=True)
            time.sleep(60)
        decoded_cache.decode_resized = slow
        decoded_cache.decoded_split(load_cub200("seen", root={str(own_cub)!r}), {RESIZE}, folder={str(tmp_path)!r},
                                    progress=False)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "decoding"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert not list(tmp_path.glob("*.npy"))
    plain = load_cub200("seen", root=own_cub)
    cached = decoded_split(plain, RESIZE, folder=tmp_path, progress=False)
    assert torch.equal(cached[0][0], plain_resized(plain.paths[0]))


@pytest.mark.parametrize("call, message", [
    (lambda split, folder: decoded_split(data.load("toy"), 8, folder=folder), "takes an ImageFileSplit"),
    (lambda split, folder: decoded_split(split, 0, folder=folder), "resize must be an integer >= 1"),
    (lambda split, folder: decoded_split(split, True, folder=folder), "resize must be an integer"),
    (lambda split, folder: decoded_split(split, 8, folder=folder, workers=-1), "workers must be an integer >= 0"),
])
def test_cache_refuses_bad_arguments(cub, tmp_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(load_cub200("seen", root=cub), tmp_path)


# --- training configs -------------------------------------------------------------------------------------------

def test_a_config_with_the_option_builds_cached_datasets(cub, tmp_path, monkeypatch):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    base = TrainConfig(dataset="cub200", root=str(cub), image_size=CROP, augment=True, holdout_per_class=1,
                       eval_seen=True, model="mlp", batch_size=4, ks=[1])
    config = base.with_overrides(["image_cache=decoded"])
    train_set, eval_sets = build_datasets(config)
    assert isinstance(train_set, DecodedImageSplit) and train_set.resize == RESIZE
    assert all(isinstance(d, DecodedImageSplit) for pair in eval_sets.values() for d in pair if d is not None)
    assert len(list((tmp_path / "decoded").glob("*.pixels.npy"))) == 2  # seen and unseen, subsets share them
    plain_train, plain_eval = build_datasets(base)
    assert type(plain_train) is data.ImageFileSplit and torch.equal(plain_train.targets, train_set.targets)
    queries, plain_queries = eval_sets["heldout"][0], plain_eval["heldout"][0]
    assert torch.equal(queries[0][0], plain_queries[0][0])  # evaluation sees the same tensors
    assert train_set[0][0].shape == plain_train[0][0].shape == (3, CROP, CROP)
    assert run_key(config) != run_key(base) and "image_cache" not in RESUMABLE
    assert TrainConfig.from_dict(config.to_dict()).image_cache == "decoded"


@pytest.mark.parametrize("values, message", [
    ({"image_cache": "ram"}, "image_cache must be one of none, decoded, got 'ram'"),
    ({"image_cache": True}, "image_cache must be str, got bool"),
    ({"dataset": "digits", "image_cache": "decoded"}, "image_cache='decoded' caches image files; dataset 'digits'"),
])
def test_bad_option_values_raise_clear_errors(values, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**values)


@pytest.mark.parametrize("progress", [True, False])
def test_the_cache_builds_with_a_bar_only_when_training_shows_progress(cub, tmp_path, monkeypatch, progress):
    monkeypatch.setenv("PSVIZ_CACHE", str(tmp_path))
    shown = []
    real = decoded_cache.build_cache

    def recording(*args, **options):
        shown.append(options["progress"])
        return real(*args, **options)

    monkeypatch.setattr(decoded_cache, "build_cache", recording)
    config = TrainConfig(dataset="cub200", root=str(cub), image_size=CROP, image_cache="decoded", model="mlp",
                         model_options={"hidden": [8]}, embedding_dim=4, batch_size=4, ks=[1], epochs=1, device="cpu")
    fit(config, progress=progress)
    assert shown == [progress, progress]  # the seen and the unseen split were each decoded once


def test_two_builders_at_once_decode_the_split_once(own_cub, tmp_path, monkeypatch):
    split = load_cub200("seen", root=own_cub)
    calls = count_decodes(monkeypatch)
    real = decoded_cache.decode_resized

    def slow(path, resize, draft=False):  # long enough that the second builder arrives while the first decodes
        time.sleep(0.05)
        return real(path, resize, draft)

    monkeypatch.setattr(decoded_cache, "decode_resized", slow)
    start = threading.Barrier(2)
    built = [None, None]

    def builder(slot):
        start.wait()
        built[slot] = decoded_split(split, RESIZE, folder=tmp_path, progress=False)

    threads = [threading.Thread(target=builder, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == len(split)  # one builder decoded each image; the other waited and read its cache
    assert sorted(p.suffixes[-2] for p in tmp_path.iterdir()) == [".index", ".pixels"]  # no lock file left
    assert all(isinstance(b, DecodedImageSplit) for b in built)
    assert all(torch.equal(built[0][i][0], built[1][i][0]) for i in range(len(split)))
