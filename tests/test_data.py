"""Embedded datasets (toy, digits, Fashion-MNIST), the registry, the class-balanced sampler and transforms."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from psviz import data
from psviz.data import fashion_mnist
from psviz.data.transforms import BN_INCEPTION_MEAN_BGR, image_transform


def test_registry_names_and_errors():
    assert {"toy", "digits", "fashion-mnist", "glyphs", "cub200", "cars196", "sop", "inshop", "folder"} == set(
        data.available())
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*digits"):
        data.load("mnist")
    with pytest.raises(ValueError, match="no split 'test'.*seen, unseen"):
        data.load("digits", "test")
    assert data.info("Fashion_MNIST").name == "fashion-mnist"


@pytest.mark.parametrize("dim", [2, 3])
def test_toy_is_seeded_class_disjoint_and_interleaved(dim):
    seen = data.load("toy", "seen", dim=dim, n_classes=8, per_class=50, seed=1)
    unseen = data.load("toy", "unseen", dim=dim, n_classes=8, per_class=50, seed=1)
    assert seen.class_names == ["c0", "c2", "c4", "c6"] and unseen.class_names == ["c1", "c3", "c5", "c7"]
    assert len(seen) == len(unseen) == 200 and seen.data.shape == (200, dim)
    assert Counter(seen.targets.tolist()) == {0: 50, 1: 50, 2: 50, 3: 50}
    again = data.load("toy", "seen", dim=dim, n_classes=8, per_class=50, seed=1)
    assert torch.equal(seen.data, again.data)
    assert not torch.equal(seen.data, data.load("toy", "seen", dim=dim, n_classes=8, per_class=50, seed=2).data)
    # Interleaved: the nearest seen class centre of every unseen class is at the same distance as for seen ones.
    centres = data.toy.class_centres(8, dim)
    assert torch.allclose(centres.norm(dim=1), torch.ones(8), atol=1e-6)
    means = torch.stack([seen.data[seen.targets == c].mean(0) for c in range(4)])
    assert torch.allclose(means, centres[0::2], atol=0.1)


def test_toy_bad_options():
    with pytest.raises(ValueError, match="dim"):
        data.load("toy", dim=4)
    with pytest.raises(ValueError, match="n_classes"):
        data.load("toy", n_classes=2)
    with pytest.raises(ValueError, match="spread"):
        data.load("toy", spread=0)


def test_digits_split_and_sizes():
    seen, unseen = data.load("digits", "seen"), data.load("digits", "unseen")
    assert seen.class_names == ["0", "1", "2", "3", "4"] and unseen.class_names == ["5", "6", "7", "8", "9"]
    assert len(seen) + len(unseen) == 1797 and (len(seen), len(unseen)) == (901, 896)
    x, y = seen[0]
    assert x.shape == (64,) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1 and y == 0
    assert data.load("digits", as_images=True)[0][0].shape == (1, 8, 8)
    custom = data.load("digits", "unseen", seen_classes=[1, 3, 5, 7, 9])
    assert custom.class_names == ["0", "2", "4", "6", "8"]
    with pytest.raises(ValueError, match="seen_classes"):
        data.load("digits", seen_classes=range(10))


def test_fashion_mnist_from_the_debian_package():
    if not fashion_mnist.DEBIAN_DIR.is_dir():
        pytest.fail("dataset-fashion-mnist is not installed; .ci/run installs it (apt-get install "
                    "dataset-fashion-mnist)")
    seen, unseen = data.load("fashion-mnist", "seen"), data.load("fashion-mnist", "unseen")
    assert seen.class_names == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]
    assert unseen.class_names == ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert len(seen) == len(unseen) == 35000
    assert Counter(unseen.targets.tolist()) == {c: 7000 for c in range(5)}
    x, y = seen[0]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and x.max() <= 1 and x.max() > 0.5
    small = data.load("fashion-mnist", "seen", max_per_class=10)
    assert len(small) == 50 and Counter(small.targets.tolist()) == {c: 10 for c in range(5)}


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_from_root_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "absent")
    rng = np.random.default_rng(0)
    for part, n in (("train", 30), ("t10k", 20)):
        write_idx(tmp_path / f"{part}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{part}-labels-idx1-ubyte", np.arange(n) % 10)
    seen = data.load("fashion-mnist", "unseen", root=tmp_path)
    assert len(seen) == 25 and seen.targets.tolist()[:5] == [0, 1, 2, 3, 4]
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x0d\x01junk")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
        data.load("fashion-mnist", "seen", root=tmp_path)


def test_fashion_mnist_offline_without_files_says_how_to_proceed(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "absent")

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr("torchvision.datasets.FashionMNIST", offline)
    with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist"):
        data.load("fashion-mnist", root=tmp_path / "empty")


def test_class_balanced_sampler():
    targets = torch.tensor([0] * 10 + [1] * 3 + [2] * 7 + [3] * 1)
    sampler = data.ClassBalancedBatchSampler(targets, classes_per_batch=3, samples_per_class=4, n_batches=50,
                                             seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 50
    for batch in batches:
        counts = Counter(targets[batch].tolist())
        assert len(counts) == 3 and set(counts.values()) == {4}
    big = [b for b in batches if 0 in targets[b].tolist()]
    assert all(len(set(i for i in b if targets[i] == 0)) == 4 for b in big)  # enough items: no repeats
    assert list(sampler) == batches  # same seed and epoch, same batches
    sampler.set_epoch(1)
    assert list(sampler) != batches
    with pytest.raises(ValueError, match="classes_per_batch"):
        data.ClassBalancedBatchSampler(targets, 5, 2)


def test_image_transforms():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    train, test = image_transform(True, 64), image_transform(False, 64)
    assert train(image).shape == test(image).shape == (3, 64, 64)
    assert torch.equal(test(image), test(image)) and not torch.equal(train(image), train(image))
    white = Image.new("RGB", (80, 80), (255, 0, 0))  # pure red
    bgr = image_transform(False, 64, style="bn_inception")(white)
    expected = torch.tensor([0 - BN_INCEPTION_MEAN_BGR[0], 0 - BN_INCEPTION_MEAN_BGR[1],
                             255 - BN_INCEPTION_MEAN_BGR[2]])
    assert torch.allclose(bgr[:, 32, 32], expected, atol=1e-3)
    with pytest.raises(ValueError, match="style"):
        image_transform(False, style="caffe")
