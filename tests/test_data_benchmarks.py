"""The benchmark loaders (CUB-200-2011, CARS196, SOP, In-Shop, class-per-folder) on tiny fake copies of each layout."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

from psviz import data
from psviz.data import benchmarks


def write_image(path: Path, shade: int = 0) -> Path:
    """A small solid-colour image; the format follows the suffix (JPEG, PNG, ...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L" if shade % 2 else "RGB", (8, 8), shade % 256).save(path)
    return path


def assert_contiguous(split):
    assert sorted(set(split.targets.tolist())) == list(range(split.n_classes))


# --- fake layouts -----------------------------------------------------------------------------------------------

CUB_CLASSES = {1: 2, 2: 3, 100: 2, 101: 2, 150: 1, 200: 2}  # class id -> images


def make_cub(parent: Path) -> Path:
    folder = parent / "CUB_200_2011"
    images, labels, classes, image_id = [], [], [], 0
    for class_id, count in CUB_CLASSES.items():
        class_name = f"{class_id:03d}.Bird_{class_id}"
        classes.append(f"{class_id} {class_name}")
        for k in range(count):
            image_id += 1
            rel = f"{class_name}/Bird_{class_id}_{k}.jpg"
            write_image(folder / "images" / rel, image_id)
            images.append(f"{image_id} {rel}")
            labels.append(f"{image_id} {class_id}")
    (folder / "images.txt").write_text("\n".join(images) + "\n")
    (folder / "image_class_labels.txt").write_text("\n".join(labels) + "\n")
    (folder / "classes.txt").write_text("\n".join(classes) + "\n")
    return folder


CARS_CLASSES = {1: 2, 50: 1, 98: 2, 99: 1, 150: 3, 196: 1}


def make_cars(folder: Path, classes=CARS_CLASSES, with_names=True) -> Path:
    dtype = [(f, "O") for f in ("relative_im_path", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "test")]
    rows = []
    for class_id, count in classes.items():
        for _ in range(count):
            rel = f"car_ims/{len(rows) + 1:06d}.jpg"
            write_image(folder / rel, len(rows))
            rows.append((rel, 0, 0, 7, 7, np.uint8(class_id), np.uint8(len(rows) % 2)))
    annotations = np.zeros((1, len(rows)), dtype=dtype)
    for i, row in enumerate(rows):
        annotations[0, i] = row
    contents = {"annotations": annotations}
    if with_names:
        contents["class_names"] = np.array([[f"Make Model {i}" for i in range(1, 197)]], dtype=object)
    savemat(folder / "cars_annos.mat", contents)
    return folder


SOP_HEADER = "image_id class_id super_class_id path"


def make_sop(parent: Path) -> Path:
    folder = parent / "Stanford_Online_Products"
    for listing, classes in (("Ebay_train.txt", {1: 2, 2: 3, 5: 2}), ("Ebay_test.txt", {11319: 2, 11320: 1})):
        lines, image_id = [SOP_HEADER], 0
        for class_id, count in classes.items():
            for k in range(count):
                image_id += 1
                rel = f"bicycle_final/{class_id}_{k}.JPG"
                write_image(folder / rel, image_id)  # an upper-case suffix, as in the real set
                lines.append(f"{image_id} {class_id} 1 {rel}")
        (folder / listing).write_text("\n".join(lines) + "\n")
    return folder


INSHOP_ROWS = [("id_00000001", "train"), ("id_00000001", "train"), ("id_00000002", "train"),
               ("id_00000007", "query"), ("id_00000007", "gallery"), ("id_00000007", "gallery"),
               ("id_00000004", "query"), ("id_00000004", "gallery"), ("id_00000009", "gallery")]


def make_inshop(folder: Path) -> Path:
    lines = [str(len(INSHOP_ROWS)), "image_name item_id evaluation_status"]
    for k, (item, status) in enumerate(INSHOP_ROWS):
        rel = f"img/WOMEN/Dresses/{item}/{k:02d}_1_front.jpg"
        write_image(folder / rel, k)
        lines.append(f"{rel} {item} {status}")
    (folder / "Eval").mkdir(parents=True)
    (folder / "Eval" / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    return folder


def make_folder(root: Path) -> Path:
    write_image(root / "seen" / "dog" / "b.jpg")
    write_image(root / "seen" / "dog" / "a.PNG", 3)
    write_image(root / "seen" / "cat" / "z.webp", 5)
    write_image(root / "seen" / "cat" / ".hidden.png")
    (root / "seen" / "cat" / "notes.txt").write_text("not an image")
    (root / "seen" / "empty").mkdir()
    write_image(root / "unseen" / "bird" / "x.bmp", 7)
    write_image(root / "unseen" / "eel" / "y.gif", 9)
    return root


# --- CUB-200-2011 -----------------------------------------------------------------------------------------------

def test_cub_splits_by_class_id_with_names_and_either_root(tmp_path):
    folder = make_cub(tmp_path)
    seen = data.load("cub200", "seen", root=tmp_path)
    unseen = benchmarks.load_cub200("unseen", root=folder)
    assert (len(seen), len(unseen)) == (7, 5)
    assert seen.class_names == ["001.Bird_1", "002.Bird_2", "100.Bird_100"]
    assert unseen.class_names == ["101.Bird_101", "150.Bird_150", "200.Bird_200"]
    assert Counter(seen.targets.tolist()) == {0: 2, 1: 3, 2: 2}
    for split in (seen, unseen):
        assert_contiguous(split)
        for path, label in zip(split.paths, split.targets.tolist()):
            assert path.parent.name == split.class_names[label]  # each image sits in its class's folder
    image, label = unseen[4]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (8, 8) and label == 2
    tensors = data.load("cub200", "seen", root=folder, transform=lambda im: torch.from_numpy(np.array(im)))
    assert tensors[0][0].shape == (8, 8, 3) and tensors[0][1] == 0


def test_cub_without_classes_txt_names_classes_by_id(tmp_path):
    folder = make_cub(tmp_path)
    (folder / "classes.txt").unlink()
    assert data.load("cub200", "unseen", root=folder).class_names == ["101", "150", "200"]


def test_cub_errors_name_the_file_and_line(tmp_path):
    folder = make_cub(tmp_path)
    with pytest.raises(ValueError, match=r"no split 'test'.*seen, unseen"):
        benchmarks.load_cub200("test", root=tmp_path)
    with pytest.raises(ValueError, match=r"no split 'query'"):
        data.load("cub200", "query", root=tmp_path)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"missing .*elsewhere/CUB_200_2011/images\.txt; expected root/CUB_200_2011"):
        data.load("cub200", root=empty)
    labels = folder / "image_class_labels.txt"
    text = labels.read_text()
    labels.unlink()
    with pytest.raises(ValueError, match=r"missing .*CUB_200_2011/image_class_labels\.txt; expected"):
        data.load("cub200", root=tmp_path)
    labels.write_text(text.replace("2 1\n", "2\n", 1))
    with pytest.raises(ValueError, match=r"image_class_labels\.txt line 2: expected 2 fields"):
        data.load("cub200", root=tmp_path)
    labels.write_text(text.replace("2 1\n", "2 201\n", 1))
    with pytest.raises(ValueError, match=r"image_class_labels\.txt line 2: class_id 201 is outside 1\.\.200"):
        data.load("cub200", root=tmp_path)
    labels.write_text(text.replace("2 1\n", "2 one\n", 1))
    with pytest.raises(ValueError, match=r"line 2: class_id 'one' is not an integer"):
        data.load("cub200", root=tmp_path)
    labels.write_text(text)
    first = folder / "images" / "001.Bird_1" / "Bird_1_0.jpg"
    first.write_bytes(b"these bytes are not a JPEG")
    split = data.load("cub200", root=tmp_path)  # corrupt bytes only show when the image is opened
    with pytest.raises(ValueError, match=r"cannot read image .*Bird_1_0\.jpg"):
        split[0]
    first.unlink()
    with pytest.raises(ValueError, match=r"image .*Bird_1_0\.jpg listed in .*image_class_labels\.txt does not exist"):
        data.load("cub200", root=tmp_path)


# --- CARS196 ----------------------------------------------------------------------------------------------------

def test_cars_splits_by_class_id_with_mat_class_names(tmp_path):
    folder = make_cars(tmp_path / "CARS196")
    seen = data.load("cars196", "seen", root=tmp_path)
    unseen = data.load("cars196", "unseen", root=folder)
    assert (len(seen), len(unseen)) == (5, 5)
    assert seen.class_names == ["Make Model 1", "Make Model 50", "Make Model 98"]
    assert unseen.class_names == ["Make Model 99", "Make Model 150", "Make Model 196"]
    assert unseen.targets.tolist() == [0, 1, 1, 1, 2]
    assert unseen.paths[0] == folder / "car_ims" / "000006.jpg"
    assert_contiguous(seen)
    assert seen[0][0].mode == "RGB" and seen[0][1] == 0


def test_cars_tolerates_loadmat_shapes_and_missing_names(tmp_path):
    make_cars(tmp_path, {99: 1}, with_names=False)  # one annotation: loadmat squeezes it to a 0-d record
    unseen = data.load("cars196", "unseen", root=tmp_path)
    assert len(unseen) == 1 and unseen.class_names == ["99"]
    with pytest.raises(ValueError, match=r"cars196/seen: no images for this split in .*cars_annos\.mat"):
        data.load("cars196", "seen", root=tmp_path)


def test_cars_errors(tmp_path):
    with pytest.raises(ValueError, match=r"missing .*CARS196/cars_annos\.mat; expected root/\{cars_annos\.mat"):
        data.load("cars196", root=tmp_path)
    (tmp_path / "cars_annos.mat").write_bytes(b"not a MATLAB file at all")
    with pytest.raises(ValueError, match=r"cannot read .*cars_annos\.mat"):
        data.load("cars196", root=tmp_path)
    savemat(tmp_path / "cars_annos.mat", {"something_else": np.arange(3)})
    with pytest.raises(ValueError, match=r"malformed .*cars_annos\.mat: expected a struct array 'annotations'"):
        data.load("cars196", root=tmp_path)
    make_cars(tmp_path, {1: 1, 197: 1})
    with pytest.raises(ValueError, match=r"cars_annos\.mat line 2: class 197 is outside 1\.\.196"):
        data.load("cars196", root=tmp_path)


# --- Stanford Online Products -----------------------------------------------------------------------------------

def test_sop_reads_train_and_test_listings(tmp_path):
    folder = make_sop(tmp_path)
    seen = data.load("sop", "seen", root=tmp_path)
    unseen = data.load("sop", "unseen", root=folder)
    assert (len(seen), len(unseen)) == (7, 3)
    assert seen.class_names == ["1", "2", "5"] and unseen.class_names == ["11319", "11320"]
    assert seen.targets.tolist() == [0, 0, 1, 1, 1, 2, 2] and unseen.targets.tolist() == [0, 0, 1]
    assert set(seen.class_names).isdisjoint(unseen.class_names)
    assert seen.paths[0] == folder / "bicycle_final" / "1_0.JPG"
    assert unseen[2][0].mode == "RGB"


def test_sop_errors(tmp_path):
    folder = make_sop(tmp_path)
    listing = folder / "Ebay_test.txt"
    text = listing.read_text()
    listing.write_text(text.replace(SOP_HEADER + "\n", ""))
    with pytest.raises(ValueError, match=r"Ebay_test\.txt line 1: expected the header"):
        data.load("sop", "unseen", root=tmp_path)
    listing.write_text(text.replace(" 11320 1 ", " 11320 ", 1))
    with pytest.raises(ValueError, match=r"Ebay_test\.txt line 4: expected 4 fields"):
        data.load("sop", "unseen", root=tmp_path)
    listing.unlink()
    with pytest.raises(ValueError, match=r"missing .*Stanford_Online_Products/Ebay_test\.txt; expected root/Stan"):
        data.load("sop", "unseen", root=tmp_path)
    assert len(data.load("sop", "seen", root=tmp_path)) == 7  # the other listing still loads


# --- In-Shop Clothes --------------------------------------------------------------------------------------------

def test_inshop_query_and_gallery_share_labels(tmp_path):
    make_inshop(tmp_path)
    seen = data.load("inshop", "seen", root=tmp_path)
    query = data.load("inshop", "query", root=tmp_path)
    gallery = benchmarks.load_inshop("gallery", root=tmp_path)
    assert (len(seen), len(query), len(gallery)) == (3, 2, 4)
    assert seen.class_names == ["id_00000001", "id_00000002"] and seen.targets.tolist() == [0, 0, 1]
    assert query.class_names == gallery.class_names == ["id_00000004", "id_00000007", "id_00000009"]
    assert query.targets.tolist() == [1, 0] and gallery.targets.tolist() == [1, 1, 0, 2]
    for split in (query, gallery):  # every label names the item folder its image is in, and no train item
        for path, label in zip(split.paths, split.targets.tolist()):
            assert path.parent.name == split.class_names[label]
        assert set(split.class_names).isdisjoint(seen.class_names)
    assert gallery[3][0].mode == "RGB" and gallery[3][1] == 2


def test_inshop_accepts_a_named_parent_folder(tmp_path):
    make_inshop(tmp_path / "In-shop Clothes Retrieval Benchmark")
    assert len(data.load("inshop", "gallery", root=tmp_path)) == 4


def test_inshop_errors(tmp_path):
    with pytest.raises(ValueError, match=r"no split 'unseen'.*seen, query, gallery"):
        data.load("inshop", "unseen", root=tmp_path)
    with pytest.raises(ValueError, match=r"missing .*Eval/list_eval_partition\.txt; expected root/\{Eval"):
        data.load("inshop", "query", root=tmp_path)
    listing = make_inshop(tmp_path) / "Eval" / "list_eval_partition.txt"
    text = listing.read_text()
    listing.write_text(text.replace("9\n", "12\n", 1))
    with pytest.raises(ValueError, match=r"list_eval_partition\.txt line 1: says 12 images but 9 rows"):
        data.load("inshop", root=tmp_path)
    listing.write_text(text.replace("id_00000002 train", "id_00000002 test"))
    with pytest.raises(ValueError, match=r"list_eval_partition\.txt line 5: evaluation_status 'test'"):
        data.load("inshop", root=tmp_path)
    listing.write_text(text.replace("image_name", "name"))
    with pytest.raises(ValueError, match=r"list_eval_partition\.txt line 2: expected the header"):
        data.load("inshop", root=tmp_path)


# --- class-per-folder -------------------------------------------------------------------------------------------

def test_folder_layout_is_sorted_and_filtered(tmp_path):
    make_folder(tmp_path)
    seen = data.load("folder", "seen", root=tmp_path)
    unseen = data.load("folder", "unseen", root=str(tmp_path))
    assert seen.class_names == ["cat", "dog"] and [p.name for p in seen.paths] == ["z.webp", "a.PNG", "b.jpg"]
    assert seen.targets.tolist() == [0, 1, 1]
    assert unseen.class_names == ["bird", "eel"] and unseen.targets.tolist() == [0, 1]
    assert all(seen[i][0].mode == "RGB" for i in range(len(seen))) and unseen[1][0].size == (8, 8)


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match=r"missing .*/seen; expected root/seen/<class>/<image>"):
        data.load("folder", "seen", root=tmp_path)
    (tmp_path / "unseen" / "bird").mkdir(parents=True)
    (tmp_path / "unseen" / "bird" / "readme.md").write_text("no images here")
    with pytest.raises(ValueError, match=r"folder/unseen: no images in .*unseen"):
        data.load("folder", "unseen", root=tmp_path)
    with pytest.raises(ValueError, match=r"no split 'train'"):
        benchmarks.load_folder("train", root=tmp_path)
