"""The embedding explorer's data: which items, their thumbnails, their neighbours, the selection, the offline file."""

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from psviz import viz
from psviz.analysis.explorer_data import ExplorerData, explorer_data
from psviz.analysis.explorer_data.thumbnails import fit, sprite_sheet
from psviz.analysis.gallery import item_pixels
from psviz.evaluate import nearest_neighbours
from psviz.train import EmbeddingExport, export_embeddings, plain_splits
from psviz.viz.explore.page import payload, standalone_html


@pytest.fixture(scope="module")
def digits_explorer(digits_runs):
    return viz.explorer(digits_runs, projection="pca", k=5)


def _tile(data: ExplorerData, index: int) -> np.ndarray:
    sheet = np.asarray(Image.open(io.BytesIO(data.sprite)).convert("RGB"))
    row, col = divmod(index, data.thumb_cols)
    size = data.thumb_size
    return sheet[row * size:(row + 1) * size, col * size:(col + 1) * size]


def test_the_items_are_every_seen_and_unseen_item_in_one_order_for_both_runs(digits_runs, digits_explorer):
    data = digits_explorer.explorer_data
    export = export_embeddings(digits_runs["with PS"])
    assert data.runs == ["baseline", "with PS"]
    assert np.array_equal(data.labels, export.labels.numpy())
    assert np.array_equal(data.splits, export.splits)
    splits = plain_splits(digits_runs["with PS"].config)
    assert len(data) == sum(len(part) for split in ("seen", "unseen") for part in splits[split])
    assert np.array_equal(data.items[data.splits == "unseen"], np.arange(len(splits["unseen"][0])))
    for name in data.runs:
        assert data.maps[name].shape == (len(data), 2) and np.isfinite(data.maps[name]).all()
    assert "synthetic" in data.overlays["with PS"] and "synthetic" not in data.overlays["baseline"]
    n_seen = len(splits["seen"][0].class_names)
    assert data.overlays["baseline"]["proxies"].shape == (n_seen, 2)


def test_each_thumbnail_is_its_items_image(digits_runs, digits_explorer):
    data = digits_explorer.explorer_data
    splits = plain_splits(digits_runs["with PS"].config)
    for index in np.random.default_rng(0).choice(len(data), 12, replace=False):
        dataset = splits[str(data.splits[index])][0]
        expected = fit(item_pixels(dataset.load_item(int(data.items[index]))), data.thumb_size)
        assert np.array_equal(_tile(data, int(index)), expected)


def test_neighbours_are_nearest_neighbours_within_the_items_split(digits_runs, digits_explorer):
    data = digits_explorer.explorer_data
    for name, run in digits_runs.items():
        export = export_embeddings(run)
        for split in ("seen", "unseen"):
            rows = np.flatnonzero(data.splits == split)
            sims, found = nearest_neighbours(export.embeddings[torch.as_tensor(rows)], 5)
            assert np.array_equal(data.neighbours[name][rows], rows[found])
            assert np.allclose(data.similarities[name][rows], sims)
        assert digits_explorer.neighbours(7)[name] == data.neighbours[name][7].tolist()


def test_the_selection_goes_both_ways_as_item_indices(digits_explorer):
    explorer = digits_explorer
    assert explorer.selected.empty
    explorer.selection = [3, 7, 1200]
    table = explorer.selected
    assert table.index.tolist() == [3, 7, 1200]
    data = explorer.explorer_data
    assert table["split"].tolist() == [str(data.splits[i]) for i in (3, 7, 1200)]
    assert table["class"].tolist() == [data.class_of(i) for i in (3, 7, 1200)]
    assert list(table.columns[-4:]) == ["baseline x", "baseline y", "with PS x", "with PS y"]
    explorer.selection = []
    unseen_name = data.class_names["unseen"][2]
    explorer.select_class(unseen_name, "unseen")
    assert explorer.focus == "unseen:2"
    with pytest.raises(ValueError, match="no unseen class named"):
        explorer.select_class("no such class")
    with pytest.raises(ValueError, match="item must be in"):
        explorer.neighbours(len(data))


def test_the_payload_bytes_decode_to_the_data(digits_explorer):
    data, sent = digits_explorer.explorer_data, digits_explorer.data
    arrays = sent["arrays"]
    assert np.array_equal(np.frombuffer(arrays["label"], "<i4"), data.labels)
    assert np.array_equal(np.frombuffer(arrays["split"], np.uint8), (data.splits == "unseen").astype(np.uint8))
    assert np.allclose(np.frombuffer(arrays["xy_1"], "<f4").reshape(-1, 2), data.maps["with PS"])
    assert np.array_equal(np.frombuffer(arrays["nn_0"], "<i4").reshape(-1, 5), data.neighbours["baseline"])
    meta = sent["meta"]
    assert meta["n"] == len(data) and meta["k"] == 5 and meta["thumb"]["cols"] == data.thumb_cols
    assert [key for key, _ in meta["layers"]] == ["seen", "unseen", "proxies", "synthetic"]


def test_max_classes_keeps_every_item_of_a_draw_of_classes(digits_runs):
    explorer = viz.explorer(digits_runs, projection="pca", max_classes=2, k=3, seed=1)
    data = explorer.explorer_data
    for split in ("seen", "unseen"):
        labels = data.labels[data.splits == split]
        kept = np.unique(labels)
        assert len(kept) == 2
        every = plain_splits(digits_runs["baseline"].config)[split][0].targets.numpy()
        assert len(labels) == np.isin(every, kept).sum()  # all their items
    seen = np.unique(data.labels[data.splits == "seen"])
    assert np.array_equal(np.unique(data.overlay_labels["baseline"]["proxies"]), seen)  # only the shown classes' proxies
    again = viz.explorer(digits_runs, projection="pca", max_classes=2, k=3, seed=1).explorer_data
    assert np.array_equal(again.items, data.items)


def test_umap_maps_are_turned_onto_the_first(digits_runs):
    data = explorer_data(digits_runs, max_classes=3, k=3, thumbnails=False)
    assert data.sprite is None and data.projection == "UMAP"
    a, b = data.maps["baseline"], data.maps["with PS"]
    # aligned maps put the same item near itself: closer than a random pairing of items
    spread = np.linalg.norm(a - a[np.random.default_rng(0).permutation(len(a))], axis=1).mean()
    assert np.linalg.norm(a - b, axis=1).mean() < spread


def test_toy_points_are_not_images_so_no_thumbnails(toy_runs):
    data = explorer_data(toy_runs, projection="pca", k=3)
    assert data.sprite is None
    with pytest.raises(ValueError, match="must be images"):
        explorer_data(toy_runs, projection="pca", k=3, thumbnails=True)


def test_exports_with_images_and_without(digits_runs, tmp_path):
    exports = {name: export_embeddings(run) for name, run in digits_runs.items()}
    path = exports["baseline"].save(tmp_path / "export.npz")
    loaded = EmbeddingExport.load(path)
    assert torch.equal(loaded.items, exports["baseline"].items)
    exports["baseline"] = loaded
    plain = explorer_data(exports, projection="pca", k=3)
    assert plain.sprite is None and "synthetic" not in plain.overlays["with PS"]
    splits = plain_splits(digits_runs["baseline"].config)
    images = {split: splits[split][0] for split in ("seen", "unseen")}
    with_images = explorer_data(exports, projection="pca", k=3, images=images)
    assert np.array_equal(_tile(with_images, 0), fit(item_pixels(images["seen"].load_item(0)), 32))
    kept = exports["baseline"].keep_classes("unseen", [0])
    assert torch.equal(kept.items, exports["baseline"].items[torch.as_tensor(
        (exports["baseline"].splits == "seen") | (exports["baseline"].labels == 0).numpy())])


@pytest.mark.parametrize("change, message", [
    (dict(projection="mds"), "projection must be one of umap, pca, tsne"),
    (dict(layers=("proxies", "grid")), "layers must be among"),
    (dict(k=0), "k must be"),
    (dict(k=2000), "k=2000 neighbours need more than 2000"),
    (dict(max_classes=0), "max_classes must be"),
])
def test_bad_settings_are_refused(digits_runs, change, message):
    with pytest.raises(ValueError, match=message):
        explorer_data(digits_runs, **{"projection": "pca", "thumbnails": False, **change})


def test_runs_that_hold_other_items_cannot_be_linked(digits_runs):
    exports = {name: export_embeddings(run) for name, run in digits_runs.items()}
    exports["with PS"] = exports["with PS"].keep_classes("unseen", [0, 1])
    with pytest.raises(ValueError, match="same items in the same order"):
        explorer_data(exports, projection="pca")
    with pytest.raises(ValueError, match="must all be FitResult or all EmbeddingExport"):
        explorer_data({"a": digits_runs["baseline"], "b": exports["baseline"]})
    with pytest.raises(ValueError, match="non-empty dict"):
        explorer_data({})


def _page_data(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="psviz-explorer-data">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


def test_the_offline_file_holds_module_style_and_data(digits_explorer, tmp_path):
    path = digits_explorer.save(tmp_path / "explorer.html")
    text = path.read_text()
    assert "http://" not in text and "https://" not in text  # nothing is fetched
    assert "class Explorer" in text and ".psviz-explorer" in text
    data = _page_data(text)
    assert base64.b64decode(data["sprite"]) == digits_explorer.explorer_data.sprite
    assert base64.b64decode(data["arrays"]["nn_1"]) == digits_explorer.data["arrays"]["nn_1"]


def test_names_cannot_close_the_data_script_early():
    names = {"seen": ["</script><b>x", "a"], "unseen": ["b"]}
    data = ExplorerData(["r"], np.array([0, 0, 1, 0]), np.array(["seen", "seen", "unseen", "seen"]), np.arange(4),
                        names, {"r": np.zeros((4, 2), np.float32)}, {"r": np.array([[1], [0], [2], [0]])},
                        {"r": np.ones((4, 1), np.float32)}, title="t")
    text = standalone_html(payload(data), "t")
    assert text.count("</script>") == 2  # the data's and the module's own ends only
    assert _page_data(text)["meta"]["class_names"]["seen"][0] == "</script><b>x"


def test_sprite_sheet_layout_and_limit():
    tiles = np.stack([np.full((4, 4, 3), i * 20, np.uint8) for i in range(10)])
    png, cols = sprite_sheet(tiles)
    sheet = np.asarray(Image.open(io.BytesIO(png)))
    assert cols == 4 and sheet.shape == (12, 16)  # grey tiles make a one-channel PNG
    assert sheet[4, 8] == 6 * 20  # tile 6: row 1, column 2
    with pytest.raises(ValueError, match="do not fit"):
        sprite_sheet(np.broadcast_to(np.zeros((1, 128, 128, 3), np.uint8), (20000, 128, 128, 3)))


def test_the_widget_state_sends_arrays_and_sprite_as_binary_buffers(digits_explorer):
    from ipywidgets.widgets.widget import _remove_buffers

    state, paths, buffers = _remove_buffers(digits_explorer.get_state())
    assert ["data", "arrays", "label"] in paths and ["data", "sprite"] in paths
    assert sum(len(memoryview(b)) for b in buffers) >= len(digits_explorer.explorer_data.sprite)
    assert len(json.dumps(state)) < 200_000  # only the meta goes as JSON
