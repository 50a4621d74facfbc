"""`SynthesisResult.with_lambda` and the synthetic-embedding figure, on hand-made batches and on real runs' batches."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import psviz
from psviz import proxy_synthesis
from psviz.train import synthetic_batch
from psviz.viz.style import MARKS
from psviz.viz.synthetic import (EMBEDDING_PATHS, PROXY_PATHS, display_space, lambda_grid, set_lambda,
                                 synthetic_embeddings)

SEEN, PROXY, SYN, SYN_PROXY = (MARKS[k].name for k in ("seen", "proxy", "synthetic", "synthetic_proxy"))


def make_batch(batch=10, n_classes=3, dim=4, k=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(batch, dim, generator=g, dtype=torch.float64) * 3
    shape = (n_classes, dim) if k is None else (n_classes, k, dim)
    proxies = torch.randn(*shape, generator=g, dtype=torch.float64)
    labels = torch.arange(batch) % n_classes
    return embeddings, proxies, labels


# ---- with_lambda -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mu", [0.0, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("k", [None, 3])
def test_with_lambda_equals_a_fresh_synthesis_with_that_lambda_and_the_same_pairs(mu, normalize, k):
    e, p, y = make_batch(k=k)
    result = proxy_synthesis(e, p, y, mu=mu, normalize=normalize, generator=torch.Generator().manual_seed(1))
    before = [t.clone() for t in (result.embeddings, result.proxies, result.labels, result.partner)]
    for lam in (0.0, 0.3, 1.0):
        moved = result.with_lambda(lam)
        fresh = proxy_synthesis(e, p, y, mu=mu, lam=lam, normalize=normalize,
                                partner=result.partner if result.n_synthetic else None)
        assert isinstance(moved, psviz.SynthesisResult)
        assert moved.lam == lam and moved.normalized is normalize
        assert (moved.n_real, moved.n_synthetic, moved.n_classes) == (10, math.floor(mu * 10), 3)
        assert torch.equal(moved.partner, result.partner) and torch.equal(moved.labels, fresh.labels)
        assert torch.allclose(moved.embeddings, fresh.embeddings, atol=1e-12)
        assert torch.allclose(moved.proxies, fresh.proxies, atol=1e-12)
        assert torch.equal(moved.pairs, result.pairs)
    for old, now in zip(before, (result.embeddings, result.proxies, result.labels, result.partner)):
        assert torch.equal(old, now)  # the result it was called on is left unchanged
    again = result.with_lambda(result.lam)
    assert torch.allclose(again.embeddings, result.embeddings, atol=1e-12)
    assert torch.allclose(again.proxies, result.proxies, atol=1e-12)


def test_with_lambda_at_the_ends_gives_the_sources():
    e, p, y = make_batch()
    result = proxy_synthesis(e, p, y, mu=2.5, generator=torch.Generator().manual_seed(2))
    unit_e, unit_p = torch.nn.functional.normalize(e, dim=1), torch.nn.functional.normalize(p, dim=1)
    first, second = result.pairs[:, 0], result.pairs[:, 1]
    at_one, at_zero = result.with_lambda(1.0), result.with_lambda(0.0)
    assert torch.allclose(at_one.synthetic_embeddings, unit_e[first], atol=1e-12)
    assert torch.allclose(at_zero.synthetic_embeddings, unit_e[second], atol=1e-12)
    assert torch.allclose(at_one.synthetic_proxies, unit_p[y[first]], atol=1e-12)
    assert torch.allclose(at_zero.synthetic_proxies, unit_p[y[second]], atol=1e-12)
    raw = proxy_synthesis(e, p, y, mu=1.0, normalize=False, generator=torch.Generator().manual_seed(2))
    half = raw.with_lambda(0.5)
    assert torch.allclose(half.synthetic_embeddings, 0.5 * (e[raw.pairs[:, 0]] + e[raw.pairs[:, 1]]), atol=1e-12)
    assert torch.equal(half.embeddings[:10], e)  # raw rows stay raw


@pytest.mark.parametrize("batch, mu", [(7, 0.29), (7, 1 / 3), (13, 0.5), (50, 0.29), (9, 1.7), (11, 3.0)])
def test_with_lambda_keeps_the_number_of_synthetic_classes(batch, mu):
    e, p, y = make_batch(batch=batch)
    result = proxy_synthesis(e, p, y, mu=mu, generator=torch.Generator().manual_seed(0))
    assert result.n_synthetic == math.floor(mu * batch + 1e-9)
    moved = result.with_lambda(0.5)
    assert moved.n_synthetic == result.n_synthetic and torch.equal(moved.pairs, result.pairs)


@pytest.mark.parametrize("lam", [-0.1, 1.01, float("nan"), float("inf"), "0.5", True, None])
def test_with_lambda_checks_lambda(lam):
    e, p, y = make_batch()
    with pytest.raises(ValueError, match="lam"):
        proxy_synthesis(e, p, y).with_lambda(lam)


def test_normalized_field_records_the_setting():
    e, p, y = make_batch()
    assert proxy_synthesis(e, p, y).normalized is True
    assert proxy_synthesis(e, p, y, normalize=False).normalized is False
    assert proxy_synthesis(e, p, y, mu=0.0, normalize=False).normalized is False


# ---- the figure on real runs' batches -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cases(toy_runs, toy3_runs, digits_runs):
    """name -> (run, batch, plotly figure); the batch is what PS makes on one batch of the PS run."""
    out = {}
    for name, runs in (("toy", toy_runs), ("toy3", toy3_runs), ("digits", digits_runs)):
        run = runs["with PS"]
        batch = synthetic_batch(run)
        out[name] = (run, batch, synthetic_embeddings(batch))
    return out


SPACES = {"toy": "circle", "toy3": "sphere", "digits": "pca"}


def trace(fig, name):
    found = [t for t in fig.data if t.name == name]
    assert len(found) == 1, f"expected one {name!r} trace, got {len(found)}"
    return found[0]


def coords(t, n_axes):
    cols = [t.x, t.y] + ([t.z] if n_axes == 3 else [])
    return np.stack([np.asarray(c, dtype=float) for c in cols], axis=1)


def segments(t, n_axes):
    """The NaN-separated polylines of a line trace."""
    xy = coords(t, n_axes)
    breaks = np.flatnonzero(np.isnan(xy).any(axis=1))
    starts = np.concatenate([[0], breaks + 1])
    return [xy[a:b] for a, b in zip(starts, np.concatenate([breaks, [len(xy)]])) if b > a]


def distance_to_polyline(point, line):
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(((point - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-30), 0.0, 1.0)
    return float(np.linalg.norm(a + t[:, None] * ab - point, axis=1).min())


def n_axes_of(name):
    return 3 if name == "toy3" else 2


def pca_reference(batch):
    """The batch's PCA plane computed here with numpy (signs of the axes are arbitrary)."""
    rows = torch.cat([batch.embeddings[: batch.n_real], batch.proxies[: batch.n_classes]]).double().numpy()
    mean = rows.mean(0)
    _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
    return lambda x: (np.asarray(x, dtype=float) - mean) @ vt[:2].T


def project(name, batch, rows):
    """Rows as the figure should place them: themselves on the circle/sphere, the numpy PCA plane otherwise."""
    rows = rows.detach().double().numpy()
    return pca_reference(batch)(rows) if name == "digits" else rows


def assert_close_up_to_axis_sign(got, expected, atol):
    for i in range(got.shape[1]):
        sign = 1.0 if np.abs(got[:, i] - expected[:, i]).max() <= np.abs(got[:, i] + expected[:, i]).max() else -1.0
        assert np.allclose(got[:, i], sign * expected[:, i], atol=atol)


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_traces_use_the_legend_names_and_hold_one_point_per_item(cases, name):
    run, batch, fig = cases[name]
    n = n_axes_of(name)
    b, mu = run.config.batch_size, run.config.mu
    assert batch.n_real == b and batch.n_classes == run.loss.n_classes
    assert len(coords(trace(fig, SEEN), n)) == b
    assert len(coords(trace(fig, PROXY), n)) == run.loss.n_classes
    assert len(coords(trace(fig, SYN), n)) == math.floor(mu * b) == batch.n_synthetic
    assert len(coords(trace(fig, SYN_PROXY), n)) == math.floor(mu * b)
    marker_names = {t.name for t in fig.data if getattr(t, "mode", None) == "markers"}
    assert marker_names == {SEEN, PROXY, SYN, SYN_PROXY}
    assert {t.name for t in fig.data if getattr(t, "mode", None) == "lines"} >= {EMBEDDING_PATHS, PROXY_PATHS}
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert len(shown) == len(set(shown))
    expected_type = "scatter3d" if n == 3 else "scatter"
    assert all(t.type == expected_type for t in fig.data if t.name in (SEEN, PROXY, SYN, SYN_PROXY))
    assert f"λ = {batch.lam:.2f}" in fig.layout.title.text


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_real_points_are_placed_in_the_expected_space(cases, name):
    _, batch, fig = cases[name]
    n = n_axes_of(name)
    assert display_space(batch).kind == SPACES[name]
    seen = coords(trace(fig, SEEN), n)
    proxies = coords(trace(fig, PROXY), n)
    expected_seen = project(name, batch, batch.embeddings[: batch.n_real])
    expected_proxies = project(name, batch, batch.proxies[: batch.n_classes])
    if name == "digits":
        both = np.concatenate([seen, proxies])
        assert_close_up_to_axis_sign(both, np.concatenate([expected_seen, expected_proxies]), atol=1e-4)
        assert fig.layout.xaxis.title.text == "PC 1" and fig.layout.yaxis.title.text == "PC 2"
    else:
        assert np.allclose(seen, expected_seen, atol=1e-5) and np.allclose(proxies, expected_proxies, atol=1e-5)


@pytest.mark.parametrize("name", ["toy", "toy3"])
def test_normalized_synthetic_points_lie_on_the_unit_circle_or_sphere(cases, name):
    _, batch, fig = cases[name]
    assert batch.normalized
    for kind in (SEEN, PROXY, SYN, SYN_PROXY):
        radius = np.linalg.norm(coords(trace(fig, kind), n_axes_of(name)), axis=1)
        assert np.allclose(radius, 1.0, atol=1e-5), kind


def test_raw_batch_is_not_drawn_on_the_circle(toy_runs):
    batch = synthetic_batch(toy_runs["with PS"], normalize=False)
    fig = synthetic_embeddings(batch)
    assert "unit circle" not in {t.name for t in fig.data}
    syn = coords(trace(fig, SYN), 2)
    e = batch.embeddings[: batch.n_real].double()
    a, b = batch.pairs[:, 0], batch.pairs[:, 1]
    assert np.allclose(syn, (batch.lam * e[a] + (1 - batch.lam) * e[b]).numpy(), atol=1e-5)
    assert not np.allclose(np.linalg.norm(syn, axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_each_synthetic_point_lies_on_its_own_mixing_path(cases, name):
    _, batch, fig = cases[name]
    n = n_axes_of(name)
    syn = coords(trace(fig, SYN), n)
    seen = coords(trace(fig, SEEN), n)
    paths = segments(trace(fig, EMBEDDING_PATHS), n)
    assert len(paths) == batch.n_synthetic
    pairs = batch.pairs.numpy()
    for i, (a, b) in enumerate(pairs):
        path = paths[i]
        # a path runs from the partner (weight 1 - λ) to the first source (weight λ)
        assert np.allclose(path[0], seen[b], atol=1e-4) and np.allclose(path[-1], seen[a], atol=1e-4)
        # on the circle, the sphere (and in the PCA plane, a linear image of it) the path is the great-circle arc
        assert distance_to_polyline(syn[i], path) < 3e-3


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_each_synthetic_proxy_lies_on_the_path_between_its_classes_proxies(cases, name):
    _, batch, fig = cases[name]
    n = n_axes_of(name)
    syn_proxy = coords(trace(fig, SYN_PROXY), n)
    proxies = coords(trace(fig, PROXY), n)
    paths = segments(trace(fig, PROXY_PATHS), n)
    labels = batch.labels[: batch.n_real].numpy()
    for i, (a, b) in enumerate(batch.pairs.numpy()):
        ends = (proxies[labels[b]], proxies[labels[a]])
        # one path per pair of classes, drawn in either direction
        own = [p for p in paths for p0, p1 in ((p[0], p[-1]), (p[-1], p[0]))
               if np.allclose(p0, ends[0], atol=1e-4) and np.allclose(p1, ends[1], atol=1e-4)]
        assert own, f"no proxy path between class {labels[b]} and class {labels[a]}"
        assert distance_to_polyline(syn_proxy[i], own[0]) < 3e-3


def slider_steps(fig):
    (slider,) = fig.layout.sliders
    return slider, list(slider.steps)


def restyled(step, n_axes):
    """Coordinates a slider step gives the synthetic embeddings and the synthetic proxies."""
    args = step.args[0]
    cols = ["x", "y"] + (["z"] if n_axes == 3 else [])
    return [np.stack([np.asarray(args[c][j], dtype=float) for c in cols], axis=1) for j in (0, 1)]


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_slider_has_even_stops_starts_nearest_the_batch_lambda_and_moves_the_subtitle(cases, name):
    _, batch, fig = cases[name]
    n = n_axes_of(name)
    slider, steps = slider_steps(fig)
    grid = lambda_grid(21)
    labels = [s.label for s in steps]
    assert labels == [f"{v:.2f}" for v in grid] and len(set(labels)) == 21  # 0.00, 0.05, ... 1.00
    assert abs(grid[slider.active] - batch.lam) <= 0.025 + 1e-9
    names = [t.name for t in fig.data]
    space = display_space(batch)
    for step, value in zip(steps, grid):
        assert step.method == "update"
        assert list(step.args[2]) == [names.index(SYN), names.index(SYN_PROXY)]
        assert f"λ = {value:.2f}" in step.args[1]["title.text"]
    syn, syn_proxy = restyled(steps[slider.active], n)
    moved = batch.with_lambda(grid[slider.active])
    assert np.allclose(syn, space(moved.synthetic_embeddings), atol=1e-5)
    assert np.allclose(syn_proxy, space(moved.synthetic_proxies), atol=1e-5)
    assert f"λ = {batch.lam:.2f}" in fig.layout.title.text  # the figure opens at the batch's own λ


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_other_slider_steps_show_the_batch_remixed_with_their_lambda(cases, name):
    _, batch, fig = cases[name]
    n = n_axes_of(name)
    _, steps = slider_steps(fig)
    by_label = {s.label: s for s in steps}
    space = display_space(batch)
    for lam in (0.25, 0.6):
        moved = batch.with_lambda(lam)
        syn, syn_proxy = restyled(by_label[f"{lam:.2f}"], n)
        assert np.allclose(syn, space(moved.synthetic_embeddings), atol=1e-5)
        assert np.allclose(syn_proxy, space(moved.synthetic_proxies), atol=1e-5)
        assert_close_up_to_axis_sign(syn, project(name, batch, moved.synthetic_embeddings), atol=1e-4)
        text = list(by_label[f"{lam:.2f}"].args[0]["hovertext"][0])
        assert len(text) == batch.n_synthetic and text[0].startswith(f"synthetic class 0: {lam:.2f} ×")
    # at λ = 1 each synthetic point sits on its first source, at λ = 0 on its partner (drawn real points)
    seen, proxies = coords(trace(fig, SEEN), n), coords(trace(fig, PROXY), n)
    labels = batch.labels[: batch.n_real].numpy()
    for label, column in (("1.00", 0), ("0.00", 1)):
        source = batch.pairs[:, column].numpy()
        syn, syn_proxy = restyled(by_label[label], n)
        assert np.allclose(syn, seen[source], atol=1e-4)
        assert np.allclose(syn_proxy, proxies[labels[source]], atol=1e-4)


def test_lambda_grid():
    assert lambda_grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert lambda_grid(2) == [0.0, 1.0]


def test_lam_argument_remixes_and_zero_steps_drops_the_slider(cases):
    _, batch, _ = cases["toy"]
    fig = synthetic_embeddings(batch, lam=0.25, lam_steps=0)
    assert not fig.layout.sliders
    assert np.allclose(coords(trace(fig, SYN), 2), batch.with_lambda(0.25).synthetic_embeddings.numpy(), atol=1e-6)
    assert "λ = 0.25" in fig.layout.title.text
    with_slider = synthetic_embeddings(batch, lam=0.25, lam_steps=3)
    slider, steps = slider_steps(with_slider)
    assert [s.label for s in steps] == ["0.00", "0.50", "1.00"] and slider.active == 0  # the nearest stop; 0.25 ties 0 and 0.5


def test_class_names_appear_in_the_hover_text(cases):
    _, batch, _ = cases["toy"]
    names = ["north", "west", "south", "east"]
    fig = synthetic_embeddings(batch, class_names=names)
    labels = batch.labels.numpy()
    a, b = batch.pairs[0].tolist()
    assert trace(fig, SYN).hovertext[0] == (f"synthetic class 0: {batch.lam:.2f} × {names[labels[a]]} + "
                                            f"{1 - batch.lam:.2f} × {names[labels[b]]}")
    assert list(trace(fig, PROXY).hovertext) == [f"proxy of {c}" for c in names]
    assert trace(fig, SEEN).hovertext[0].startswith(names[labels[0]])


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_set_lambda_moves_the_synthetic_points_to_that_slider_step(cases, name):
    _, batch, original = cases[name]
    n = n_axes_of(name)
    fig = go.Figure(original)
    before = coords(trace(fig, SYN), n)
    set_lambda(fig, batch, 0.1)
    after, after_proxy = coords(trace(fig, SYN), n), coords(trace(fig, SYN_PROXY), n)
    assert not np.allclose(before, after, atol=1e-3)
    _, steps = slider_steps(fig)
    syn, syn_proxy = restyled({s.label: s for s in steps}["0.10"], n)
    assert np.allclose(after, syn, atol=1e-5) and np.allclose(after_proxy, syn_proxy, atol=1e-5)
    assert trace(fig, SYN).hovertext[0].startswith("synthetic class 0: 0.10 ×")
    assert np.allclose(coords(trace(fig, SEEN), n), coords(trace(original, SEEN), n))  # real points stay


def test_set_lambda_works_on_a_figure_widget(cases):
    pytest.importorskip("anywidget")
    _, batch, original = cases["toy"]
    widget = go.FigureWidget(original)
    set_lambda(widget, batch, 1.0)
    source = batch.pairs[:, 0].numpy()
    assert np.allclose(coords(trace(widget, SYN), 2), coords(trace(widget, SEEN), 2)[source], atol=1e-5)


def test_set_lambda_rejects_a_foreign_figure_and_bad_input(cases):
    _, batch, _ = cases["toy"]
    foreign = go.Figure(go.Scatter(x=[0, 1], y=[1, 0], name="something else"))
    with pytest.raises(ValueError, match="synthetic_embeddings"):
        set_lambda(foreign, batch, 0.5)
    with pytest.raises(ValueError, match="SynthesisResult"):
        set_lambda(go.Figure(), "not a result", 0.5)
    with pytest.raises(ValueError, match="lam"):
        set_lambda(synthetic_embeddings(batch, lam_steps=0), batch, 1.5)


@pytest.mark.parametrize("name", ["toy", "toy3", "digits"])
def test_matplotlib_backend(cases, name):
    _, batch, _ = cases[name]
    fig = synthetic_embeddings(batch, backend="matplotlib")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.name == ("3d" if name == "toy3" else "rectilinear")
    assert ax.get_legend() is None and len(fig.legends) == 1  # one legend, under the axes, never over the data
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [EMBEDDING_PATHS, PROXY_PATHS, SEEN, PROXY, SYN, SYN_PROXY]
    points = {c.get_label(): c for c in ax.collections if c.get_label() in (SEEN, PROXY, SYN, SYN_PROXY)}
    if name != "toy3":
        assert len(points[SEEN].get_offsets()) == batch.n_real
        assert len(points[SYN].get_offsets()) == batch.n_synthetic
    if name == "toy":
        assert np.allclose(np.linalg.norm(np.asarray(points[SYN].get_offsets()), axis=1), 1.0, atol=1e-5)
    if name == "digits":
        assert ax.get_xlabel() == "PC 1"
    assert f"λ = {batch.lam:.2f}" in ax.get_title()


def test_batch_without_synthetic_classes_is_drawn_without_a_slider(toy_runs):
    batch = synthetic_batch(toy_runs["with PS"], mu=0.0)
    assert batch.n_synthetic == 0
    fig = synthetic_embeddings(batch)
    assert len(coords(trace(fig, SEEN), 2)) == batch.n_real
    assert len(coords(trace(fig, SYN), 2)) == 0 and not fig.layout.sliders
    assert len(synthetic_embeddings(batch, backend="matplotlib").axes) == 1


def test_several_centres_per_class_are_all_drawn():
    e, p, y = make_batch(batch=12, n_classes=3, dim=2, k=4)
    result = proxy_synthesis(e.float(), p.float(), y, mu=0.5, generator=torch.Generator().manual_seed(0))
    fig = synthetic_embeddings(result)
    assert len(coords(trace(fig, PROXY), 2)) == 3 * 4
    assert len(coords(trace(fig, SYN_PROXY), 2)) == 6 * 4
    assert np.allclose(coords(trace(fig, SYN_PROXY), 2), result.synthetic_proxies.reshape(-1, 2).numpy(), atol=1e-6)


def test_forced_projections(cases):
    _, batch, _ = cases["toy"]
    fig = synthetic_embeddings(batch, projection="pca", lam_steps=0)
    assert fig.layout.xaxis.title.text == "PC 1"
    assert len(coords(trace(fig, SYN), 2)) == batch.n_synthetic


@pytest.mark.parametrize("name, options, message", [
    ("toy", dict(backend="bokeh"), "backend"),
    ("toy", dict(projection="cube"), "projection"),
    ("toy", dict(projection="sphere"), "3-D"),
    ("digits", dict(projection="circle"), "2-D"),
    ("toy", dict(class_names=["only one"]), "class_names"),
    ("toy", dict(lam=2.0), "lam"),
])
def test_errors(cases, name, options, message):
    _, batch, _ = cases[name]
    with pytest.raises(ValueError, match=message):
        synthetic_embeddings(batch, **options)


def test_rejects_what_is_not_a_synthesis_result(cases):
    _, batch, _ = cases["toy"]
    with pytest.raises(ValueError, match="SynthesisResult"):
        synthetic_embeddings(batch.embeddings)
    with pytest.raises(ValueError, match="SynthesisResult"):
        synthetic_embeddings((batch.embeddings, batch.proxies, batch.labels))
