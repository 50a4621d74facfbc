"""Issue 32, reliability round two: the explorer's exports, its offline page, and the proxy-synthesis panel."""

import numpy as np
import pytest
import torch

from psviz.train import EmbeddingExport
from psviz.analysis.explorer_data import explorer_data
from psviz.viz.explore.page import payload


def _export(n_per_split: int = 12, splits=("seen", "unseen"), dim: int = 6, seed: int = 0) -> EmbeddingExport:
    rng = np.random.default_rng(seed)
    tags = np.repeat(np.array(splits), n_per_split)
    labels = torch.as_tensor(np.tile(np.arange(3), len(tags) // 3 + 1)[:len(tags)], dtype=torch.long)
    embeddings = torch.nn.functional.normalize(torch.as_tensor(rng.normal(size=(len(tags), dim)), dtype=torch.float32))
    proxies = torch.nn.functional.normalize(torch.as_tensor(rng.normal(size=(3, dim)), dtype=torch.float32))
    names = {split: [f"{split} {i}" for i in range(3)] for split in splits}
    return EmbeddingExport(embeddings, labels, tags, proxies, names)


def test_a_plain_hand_built_export_is_mapped():
    data = explorer_data({"a": _export()}, projection="pca", k=3)
    assert len(data.labels) == 24


def test_labels_and_embeddings_of_different_lengths_are_refused_naming_the_field():
    export = _export()
    export.labels = export.labels[:-2]
    with pytest.raises(ValueError, match="labels has 22 rows but embeddings has 24"):
        explorer_data({"a": export}, projection="pca", k=3)


def test_nan_embeddings_are_refused_naming_the_field():
    export = _export()
    export.embeddings[3, 1] = float("nan")
    with pytest.raises(ValueError, match="embeddings hold NaN"):
        explorer_data({"a": export}, projection="pca", k=3)


def test_held_out_items_are_refused_naming_the_split():
    with pytest.raises(ValueError, match=r"splits holds \['heldout'\]"):
        payload(explorer_data({"a": _export(splits=("seen", "unseen", "heldout"))}, projection="pca", k=3))


def test_a_pca_of_nan_rows_is_refused_before_the_svd():
    from psviz.analysis.projection import Space
    rows = torch.ones(5, 4)
    rows[1, 2] = float("nan")
    with pytest.raises(ValueError, match="finite reference rows"):
        Space("pca", 4, rows)


HOSTILE = ["<!--<script>", "</script>", "\"quotes'", "back\\slash\\", "line\u2028sep\u2029para", "&amp; <b>&lt;", "]]>-->"]


def _hostile_explorer():
    from psviz import viz
    export = _export()
    export.class_names = {"seen": HOSTILE[:3], "unseen": HOSTILE[3:6]}
    return viz.explorer({"a": export}, projection="pca", k=3, title=HOSTILE[6] + HOSTILE[0])


def _page_data(text: str) -> str:
    import re
    return re.search(r'<script type="application/json" id="psviz-explorer-data">(.*?)</script>', text, re.S).group(1)


def test_no_class_name_can_change_how_the_offline_page_parses(tmp_path):
    import json
    text = _hostile_explorer().save(tmp_path / "explorer.html").read_text()
    inline = _page_data(text)
    assert not set(inline) & set("<>&\u2028\u2029")  # nothing the HTML parser (or old JS) reads specially
    assert text.count("<script") == 2 and text.count("</script>") == 2
    assert json.loads(inline)["meta"]["class_names"] == {"seen": HOSTILE[:3], "unseen": HOSTILE[3:6]}


@pytest.mark.browser
def test_the_offline_page_with_hostile_names_opens_and_shows_them(tmp_path):
    from browser_driver import launched, require_browser, watched_page
    require_browser()
    path = _hostile_explorer().save(tmp_path / "explorer.html")
    with launched() as browser:
        page, errors = watched_page(browser, path.as_uri())
        page.wait_for_selector(".psviz-explorer[data-ready='1']", timeout=60_000)
        options = page.evaluate("() => Array.from(document.querySelectorAll('.psviz-explorer datalist option'))"
                                ".map(o => o.value)")
        title = page.title()
    assert errors == []
    assert options == [f"{name} · seen" for name in HOSTILE[:3]] + [f"{name} · unseen" for name in HOSTILE[3:6]]
    assert title == HOSTILE[6] + HOSTILE[0]


@pytest.mark.parametrize("change, message", [
    (dict(dataset="cub"), r"dataset must be one of toy, digits, got 'cub'"),
    (dict(loss="hinge"), r"loss must be one of .*norm_softmax.*, got 'hinge'"),
    (dict(seen_classes=5), r"seen_classes must be one of 4, 8, 12, 24, got 5"),
    (dict(alpha=5.0), r"alpha must be within the slider's range 0.05 to 4, got 5"),
    (dict(alpha=0.0), r"alpha must be within the slider's range 0.05 to 4, got 0"),
    (dict(mu=-0.1), r"mu must be within the slider's range 0 to 2, got -0.1"),
    (dict(mu=2.5), r"mu must be within the slider's range 0 to 2, got 2.5"),
    (dict(mu=float("nan")), r"mu must be finite"),
])
def test_the_panel_refuses_settings_its_controls_cannot_show(change, message):
    from psviz.widgets import ProxySynthesisPanel
    with pytest.raises(ValueError, match=message):
        ProxySynthesisPanel(**{"dataset": "toy", "umap": False, **change})


def test_the_panel_keeps_settings_at_the_sliders_ends():
    from psviz.widgets import ProxySynthesisPanel
    panel = ProxySynthesisPanel("toy", alpha=4.0, mu=0.0, umap=False)
    assert (panel.alpha.value, panel.mu.value) == (4.0, 0.0)
