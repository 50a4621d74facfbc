"""UMAP maps of seen and unseen classes: projection, the cache (memory and disk), alignment and the figures.

UMAP's first fit in a process compiles with numba (~15-20 s), so this module fits as few maps as it can: one
module-scoped projection of the PS run, one with fit_on="both" and one of the baseline run, all small.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from psviz import proxy_synthesis
from psviz.train import export_embeddings, synthetic_batch
from psviz.analysis.projection import UMAPCache, UMAPProjection, align, umap_project
from psviz.viz.seen_unseen import umap_seen_unseen
from psviz.viz.style import MARKS

NEIGHBOURS = 8
PER_SPLIT = 120
SEEN, UNSEEN, PROXY, SYN, SYN_PROXY = (MARKS[k].name for k in
                                       ("seen", "unseen", "proxy", "synthetic", "synthetic_proxy"))


@pytest.fixture(scope="module")
def fitted(digits_runs, tmp_path_factory):
    """The PS run's export (120 seen + 120 unseen rows) projected once, with proxies and a 24-item PS batch, into
    a cache that also writes to disk; the baseline export is made too but not projected here."""
    exports = {name: export_embeddings(run, max_per_split=PER_SPLIT) for name, run in digits_runs.items()}
    batch = synthetic_batch(digits_runs["with PS"], batch_size=24)
    directory = tmp_path_factory.mktemp("umap-cache")
    cache = UMAPCache(directory=directory)
    projection = umap_project(exports["with PS"], synthetic=batch, n_neighbors=NEIGHBOURS, cache=cache)
    return SimpleNamespace(exports=exports, batch=batch, directory=directory, cache=cache, projection=projection)


def project_again(fitted, cache):
    return umap_project(fitted.exports["with PS"], synthetic=fitted.batch, n_neighbors=NEIGHBOURS, cache=cache)


def test_projection_fit_on_seen_has_a_row_per_item_and_the_overlays(fitted):
    p, export, batch = fitted.projection, fitted.exports["with PS"], fitted.batch
    assert p.fit_on == "seen"
    assert p.points.shape == (2 * PER_SPLIT, 2) and np.isfinite(p.points).all()
    assert np.array_equal(p.labels, export.labels.numpy()) and np.array_equal(p.splits, export.splits)
    assert p.class_names == export.class_names
    assert set(p.extras) == {"proxies", "synthetic", "synthetic_proxies"}
    assert p.extras["proxies"].shape == (5, 2)
    assert p.extras["synthetic"].shape == p.extras["synthetic_proxies"].shape == (batch.n_synthetic, 2)
    assert batch.n_synthetic == 24
    assert p.extra_labels["proxies"].tolist() == [0, 1, 2, 3, 4]
    assert p.extra_labels["synthetic"].tolist() == list(range(24))
    assert all(np.isfinite(v).all() for v in p.extras.values())
    # the map keeps classes together: a seen point's nearest other seen point is mostly of its own class
    seen = p.splits == "seen"
    xy, labels = p.points[seen], p.labels[seen]
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(len(xy)) * 1e9
    assert (labels[d.argmin(1)] == labels).mean() > 0.7


def test_second_call_is_a_cache_hit_with_identical_coordinates(fitted):
    hits, misses, size = fitted.cache.hits, fitted.cache.misses, len(fitted.cache)
    again = project_again(fitted, fitted.cache)
    assert (fitted.cache.hits, fitted.cache.misses, len(fitted.cache)) == (hits + 1, misses, size)
    assert np.array_equal(again.points, fitted.projection.points)
    for key, value in fitted.projection.extras.items():
        assert np.array_equal(again.extras[key], value)


def test_a_fresh_cache_on_the_same_directory_reloads_from_disk(fitted):
    files = sorted(p.name for p in fitted.directory.iterdir())
    assert len(files) >= 1 and all(name.endswith(".npz") and not name.startswith(".") for name in files)
    fresh = UMAPCache(directory=fitted.directory)
    again = project_again(fitted, fresh)
    assert (fresh.hits, fresh.misses, len(fresh)) == (1, 0, 1)
    assert np.array_equal(again.points, fitted.projection.points)
    assert np.array_equal(again.extras["synthetic"], fitted.projection.extras["synthetic"])


def test_fit_on_both_is_another_cache_entry_and_places_every_row(fitted):
    misses = fitted.cache.misses
    # same rows, overlays and numbers as the cached fit_on="seen" layout: only fit_on differs, so it must miss
    both = umap_project(fitted.exports["with PS"], fit_on="both", synthetic=fitted.batch, n_neighbors=NEIGHBOURS,
                        cache=fitted.cache)
    assert fitted.cache.misses == misses + 1
    assert both.fit_on == "both"
    assert both.points.shape == fitted.projection.points.shape and np.isfinite(both.points).all()
    assert {k: v.shape for k, v in both.extras.items()} == {k: v.shape for k, v in fitted.projection.extras.items()}
    assert not np.allclose(both.points, fitted.projection.points)
    hits = fitted.cache.hits
    again = umap_project(fitted.exports["with PS"], fit_on="both", synthetic=fitted.batch, n_neighbors=NEIGHBOURS,
                         cache=fitted.cache)
    assert fitted.cache.hits == hits + 1 and np.array_equal(again.points, both.points)
    without = umap_project(fitted.exports["with PS"], overlay=(), n_neighbors=NEIGHBOURS, cache=UMAPCache())
    assert without.extras == {}


def test_cache_evicts_the_least_recently_used():
    cache = UMAPCache(max_items=2)
    for key in "abc"[:2]:
        cache.put(key, {"points": np.full((1, 2), ord(key), dtype=float)})
    assert cache.get("a") is not None  # a is now the most recent, b the oldest
    cache.put("c", {"points": np.zeros((1, 2))})
    assert len(cache) == 2
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert (cache.hits, cache.misses) == (3, 1)
    cache.clear()
    assert len(cache) == 0 and (cache.hits, cache.misses) == (0, 0)


def test_evicted_items_come_back_from_disk(tmp_path):
    cache = UMAPCache(max_items=1, directory=tmp_path)
    cache.put("a", {"points": np.arange(4.0).reshape(2, 2)})
    cache.put("b", {"points": np.zeros((2, 2))})
    assert len(cache) == 1
    value = cache.get("a")
    assert value is not None and np.array_equal(value["points"], np.arange(4.0).reshape(2, 2))
    assert cache.get("missing") is None and (cache.hits, cache.misses) == (1, 1)


def rotated(projection, angle, reflect=False, shift=(5.0, -3.0)):
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]]) @ (np.diag([1.0, -1.0]) if reflect else np.eye(2))
    move = lambda xy: xy @ rotation + np.asarray(shift)  # noqa: E731
    return UMAPProjection(move(projection.points), projection.labels, projection.splits, projection.class_names,
                          {k: move(v) for k, v in projection.extras.items()}, projection.extra_labels,
                          projection.fit_on)


@pytest.mark.parametrize("reflect", [False, True])
def test_align_undoes_a_rotation_reflection_and_shift(fitted, reflect):
    original = fitted.projection
    moved = rotated(original, 1.1, reflect)
    assert not np.allclose(moved.points, original.points, atol=1e-2)
    back = align(original, moved)
    assert np.allclose(back.points, original.points, atol=1e-3)
    for key, value in original.extras.items():
        assert np.allclose(back.extras[key], value, atol=1e-3)
    assert np.array_equal(moved.points, rotated(original, 1.1, reflect).points)  # align made a copy


def test_align_leaves_maps_of_different_rows_alone(fitted):
    original = fitted.projection
    other = rotated(original, 0.5)
    other.labels = np.roll(other.labels, 1)
    assert align(original, other) is other


@pytest.fixture(scope="module")
def side_by_side(fitted):
    misses = fitted.cache.misses
    fig = umap_seen_unseen(fitted.exports, synthetic={"with PS": fitted.batch}, n_neighbors=NEIGHBOURS,
                           cache=fitted.cache)
    return SimpleNamespace(fig=fig, new_fits=fitted.cache.misses - misses)


def xy(t):
    return np.stack([np.asarray(t.x, float), np.asarray(t.y, float)], 1)


def test_seen_unseen_figure_reuses_the_cached_ps_map(side_by_side):
    assert side_by_side.new_fits == 1  # only the baseline map is new


def test_seen_unseen_figure_panels_share_ranges_covering_all_points(side_by_side):
    fig = side_by_side.fig
    assert [a.text for a in fig.layout.annotations] == ["baseline", "with PS"]
    assert sorted({t.xaxis for t in fig.data}) == ["x", "x2"]
    assert tuple(fig.layout.xaxis.range) == tuple(fig.layout.xaxis2.range)
    assert tuple(fig.layout.yaxis.range) == tuple(fig.layout.yaxis2.range)
    every = np.concatenate([xy(t) for t in fig.data])
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    assert x0 < every[:, 0].min() and every[:, 0].max() < x1
    assert y0 < every[:, 1].min() and every[:, 1].max() < y1


def test_seen_unseen_legend_shows_each_kind_once(side_by_side, fitted):
    fig = side_by_side.fig
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert sorted(shown) == sorted([SEEN, UNSEEN, PROXY, SYN, SYN_PROXY])
    by_panel = {ref: sorted(t.name for t in fig.data if t.xaxis == ref) for ref in ("x", "x2")}
    assert by_panel["x"] == sorted([SEEN, UNSEEN, PROXY])
    assert by_panel["x2"] == sorted([SEEN, UNSEEN, PROXY, SYN, SYN_PROXY])
    counts = {t.name: len(t.x) for t in fig.data if t.xaxis == "x2"}
    assert counts[SEEN] == counts[UNSEEN] == PER_SPLIT and counts[PROXY] == 5
    assert counts[SYN] == counts[SYN_PROXY] == fitted.batch.n_synthetic


def test_seen_unseen_ps_panel_is_the_cached_map_moved_rigidly(side_by_side, fitted):
    fig = side_by_side.fig
    p = fitted.projection
    panel = {t.name: xy(t) for t in fig.data if t.xaxis == "x2"}
    drawn = np.concatenate([panel[SEEN], panel[UNSEEN], panel[SYN]])
    cached = np.concatenate([p.points[p.splits == "seen"], p.points[p.splits == "unseen"], p.extras["synthetic"]])
    assert np.allclose(pdist(drawn), pdist(cached), atol=1e-3)  # a rotation/reflection plus shift keeps distances
    unaligned = umap_seen_unseen(fitted.exports, synthetic={"with PS": fitted.batch}, n_neighbors=NEIGHBOURS,
                                 cache=fitted.cache, align_maps=False)
    seen = [t for t in unaligned.data if t.xaxis == "x2" and t.name == SEEN][0]
    assert np.allclose(xy(seen), p.points[p.splits == "seen"])


def test_seen_unseen_matplotlib_from_projections(fitted):
    maps = {"left": rotated(fitted.projection, 2.0), "right": fitted.projection}
    fig = umap_seen_unseen(maps, backend="matplotlib")
    assert len(fig.axes) == 2 and [ax.get_title() for ax in fig.axes] == ["left", "right"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(labels) == sorted([SEEN, UNSEEN, PROXY, SYN, SYN_PROXY])
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim() and fig.axes[0].get_ylim() == fig.axes[1].get_ylim()
    aligned = align(maps["left"], maps["right"])  # the right map is rotated onto the left one
    x0, x1 = fig.axes[0].get_xlim()
    assert x0 < aligned.points[:, 0].min() and aligned.points[:, 0].max() < x1


def test_shared_ranges_cover_overlays_far_from_the_points(fitted):
    p = fitted.projection
    far = UMAPProjection(p.points, p.labels, p.splits, p.class_names,
                         {**p.extras, "synthetic": p.extras["synthetic"] + np.array([100.0, -100.0])},
                         p.extra_labels, p.fit_on)
    for backend in ("plotly", "matplotlib"):
        fig = umap_seen_unseen({"a": p, "b": far}, align_maps=False, backend=backend)
        if backend == "plotly":
            (x0, x1), (y0, y1) = fig.layout.xaxis2.range, fig.layout.yaxis2.range
        else:
            (x0, x1), (y0, y1) = fig.axes[1].get_xlim(), fig.axes[1].get_ylim()
        syn = far.extras["synthetic"]
        assert x1 > syn[:, 0].max() and y0 < syn[:, 1].min()
        assert x0 < p.points[:, 0].min() and y1 > p.points[:, 1].max()


def test_bad_arguments(fitted):
    export = fitted.exports["with PS"]
    other = proxy_synthesis(torch.randn(6, 3), torch.randn(2, 3), torch.tensor([0, 1] * 3))
    with pytest.raises(ValueError, match="fit_on"):
        umap_project(export, fit_on="unseen")
    with pytest.raises(ValueError, match="EmbeddingExport"):
        umap_project(export.embeddings)
    with pytest.raises(ValueError, match="overlay"):
        umap_project(export, overlay=("labels",), cache=None)
    with pytest.raises(ValueError, match="dimension 3"):
        umap_project(export, synthetic=other, cache=None)
    with pytest.raises(ValueError, match="SynthesisResult"):
        umap_project(export, synthetic=other.embeddings, cache=None)
    with pytest.raises(ValueError, match="n_neighbors"):
        umap_project(export, n_neighbors=2 * PER_SPLIT, fit_on="both", cache=None)
    with pytest.raises(ValueError, match="lacks"):
        umap_seen_unseen(fitted.exports, synthetic={"PS": fitted.batch})
    with pytest.raises(ValueError, match="non-empty dict"):
        umap_seen_unseen({})
    with pytest.raises(ValueError, match="backend"):
        umap_seen_unseen(fitted.exports, backend="svg")


def test_a_map_whose_graph_falls_apart_is_the_same_every_time():
    """Seeded UMAP gives one map, also when its neighbour graph falls into components whose items repeat (as
    identical glyphs do): umap's spectral start then lays them out with ARPACK from an unseeded restart, differently
    on each call (lmcinnes/umap#544, #1277)."""
    from psviz.train.export import EmbeddingExport

    rng = np.random.default_rng(0)
    far = np.eye(16)[:3] * 20  # a cluster, and two small ones of repeated rows, too far apart to share neighbours

    def repeated(centre, n):
        return np.repeat(centre + 0.05 * rng.normal(size=(n // 2, 16)), 2, axis=0)

    rows = np.concatenate([far[0] + rng.normal(size=(80, 16)), repeated(far[1], 8), repeated(far[2], 6)])
    labels = torch.as_tensor([0] * 80 + [1] * 8 + [2] * 6)
    export = EmbeddingExport(torch.as_tensor(rows, dtype=torch.float32), labels, np.array(["seen"] * len(rows)),
                             torch.eye(16)[:3])
    maps = [umap_project(export, overlay=(), n_neighbors=5, cache=None).points for _ in range(3)]
    assert np.array_equal(maps[0], maps[1]) and np.array_equal(maps[0], maps[2])
