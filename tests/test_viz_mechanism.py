"""The figures of the mechanism (confidence landscape, gap curves, the Figure-3 density view, the batch view with
many classes) and `mechanism_measures`, checked for content on small real runs and hand-made data."""

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from psviz import proxy_synthesis
from psviz.evaluate import boundary_smoothness
from psviz.train import export_embeddings, mechanism_measures, synthetic_points
from psviz.viz import confidence_landscape, generalisation_gap, synthetic_density
from psviz.analysis.boundaries import boundary_view
from psviz.analysis.curves import gap_series
from psviz.viz.density import CLOUD, density_grid
from psviz.viz.landscape import DEEPEST, LEVELS, shade, sphere_values
from psviz.analysis.projection import UMAPProjection
from psviz.viz.style import MARKS, class_colour
from psviz.viz.synthetic import set_lambda, synthetic_embeddings


def css(rgb):
    r, g, b = np.rint(255 * np.asarray(rgb)).astype(int)
    return f"rgb({r},{g},{b})"


# ---- shade -----------------------------------------------------------------------------------------------------

def test_shade_is_the_class_tint_when_sure_and_white_at_chance():
    winner = np.array([0, 1, 2])
    sure = shade(winner, np.ones(3), 4)
    # a tint of the class colour, DEEPEST of the way from white: points in the full colour stand out on it
    assert np.allclose(sure, [1 - DEEPEST * (1 - np.array(to_rgb(class_colour(c)))) for c in range(3)])
    assert np.allclose(shade(winner, np.full(3, 0.25), 4), 1.0)  # 1 / n_classes: no opinion, white
    half = shade(np.array([0]), np.array([0.625]), 4)[0]  # halfway between chance and certainty
    assert np.allclose(half, 1 - DEEPEST * (1 - np.array(to_rgb(class_colour(0)))) / 2)


# ---- confidence_landscape on real toy runs ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def circle_views(toy_runs):
    return {name: boundary_view(run, name=name) for name, run in toy_runs.items()}


def test_circle_landscape_colours_each_direction_by_winner_and_confidence(toy_runs, circle_views):
    fig = confidence_landscape(circle_views)
    bands = [t for t in fig.data if isinstance(t, go.Barpolar)]
    assert len(bands) == 2
    for band, (name, view) in zip(bands, circle_views.items()):
        run = toy_runs[name]
        directions = torch.from_numpy(np.stack([np.cos(view.grid), np.sin(view.grid)], 1)).float()
        probs = run.loss.probabilities(directions)
        assert np.array_equal(view.winner, probs.argmax(1).numpy())
        assert np.allclose(view.confidence, probs.max(1).values.numpy(), atol=1e-6)
        values = np.asarray(band.marker.color)
        assert np.array_equal(values // LEVELS, view.winner)  # the number says the winner ...
        floor = 1 / view.n_seen
        strength = np.clip((view.confidence - floor) / (1 - floor), 0, 1)
        assert np.array_equal(np.floor(values % LEVELS), np.rint(strength * (LEVELS - 1)))  # ... and its lightness
        scale = band.marker.colorscale
        assert band.marker.cmin == 0 and band.marker.cmax == view.n_seen * LEVELS
        for value, c, s in zip(values, view.winner, strength):  # the colour drawn is `shade` at that lightness step
            position = value / (view.n_seen * LEVELS)
            drawn = next(colour for (lo, colour), (hi, _) in zip(scale[::2], scale[1::2]) if lo <= position < hi)
            step = np.rint(s * (LEVELS - 1)) / (LEVELS - 1)
            assert drawn == css(shade(np.array([c]), np.array([floor + step * (1 - floor)]), view.n_seen)[0])
        width = boundary_smoothness(run.loss)["transition_width"]
        assert f"{100 * width:.0f}% of the way" in fig.layout.annotations[list(circle_views).index(name)].text
    names = [t.name for t in fig.data if t.name]
    assert names.index(MARKS["unseen"].name) > names.index(MARKS["seen"].name)  # unseen drawn over seen
    assert fig.layout.legend.orientation == "h"  # under the plot: not clipped in a notebook column


def test_sphere_and_input_landscapes_and_the_matplotlib_backend(toy3_runs, toy_runs):
    fig = confidence_landscape(toy3_runs, resolution=30)
    meshes = [t for t in fig.data if isinstance(t, go.Mesh3d)]
    assert len(meshes) == 2
    for mesh, (name, run) in zip(meshes, toy3_runs.items()):
        # the grid's points first, as the view holds them, then the points that cut triangles along the boundaries
        view = boundary_view(run, resolution=30)
        assert len(mesh.intensity) == len(mesh.x) > 30 * 60
        assert np.allclose(np.stack([mesh.x, mesh.y, mesh.z], 1)[:30 * 60], view.grid.reshape(-1, 3))
        assert np.allclose(mesh.intensity[:30 * 60], sphere_values(view.winner, view.confidence, view.n_seen).ravel())
    unseen = [t for t in fig.data if t.name == MARKS["unseen"].name]
    radius = np.sqrt(np.asarray(unseen[0].x) ** 2 + np.asarray(unseen[0].y) ** 2 + np.asarray(unseen[0].z) ** 2)
    assert np.all(radius > 1.0)  # lifted over the surface, so the landscape cannot hide them
    plane = confidence_landscape(toy_runs, space="input", resolution=40)
    images = [t for t in plane.data if isinstance(t, go.Image)]
    assert len(images) == 2 and np.asarray(images[0].z).shape == (40, 40, 3)
    for runs, space in ((toy_runs, "embedding"), (toy3_runs, "embedding"), (toy_runs, "input")):
        mpl = confidence_landscape(runs, space=space, resolution=30, backend="matplotlib")
        assert isinstance(mpl, Figure) and len(mpl.axes) == 2


def _seen_scatter(traces):
    return next(t for t in traces if t.name == MARKS["seen"].name)


def test_seen_points_are_the_legend_s_filled_dots_and_stand_out_on_the_landscape(toy_runs):
    """Seen points sit mostly in their own class's region. At the full class colour there, a point's fill vanished
    and only its dark outline showed: a ring, while the legend showed a dot. Now the landscape stops at a tint
    (DEEPEST), and the fill under every seen point differs clearly from the landscape around it, in both backends."""
    fig = confidence_landscape(toy_runs, space="input", resolution=80)
    image = next(t for t in fig.data if isinstance(t, go.Image))
    seen = _seen_scatter(fig.data)  # the first panel's; plotly draws the legend entry from this very marker
    assert seen.marker.symbol == "circle" and seen.showlegend  # filled (not "circle-open")
    fill = 255 * np.array([to_rgb(c) for c in seen.marker.color])
    z = np.asarray(image.z, float)
    ix = np.rint((np.asarray(seen.x) - image.x0) / image.dx).astype(int).clip(0, z.shape[1] - 1)
    iy = np.rint((np.asarray(seen.y) - image.y0) / image.dy).astype(int).clip(0, z.shape[0] - 1)
    assert np.linalg.norm(fill - z[iy, ix], axis=1).min() > 50  # RGB 0-255: a visible difference, not the same tone

    mpl = confidence_landscape(toy_runs, space="input", resolution=80, backend="matplotlib")
    ax = mpl.axes[0]
    points = next(c for c in ax.collections if c.get_label() == MARKS["seen"].name)
    handle = next(h for h, t in zip(mpl.legends[0].legend_handles, mpl.legends[0].get_texts())
                  if t.get_text() == MARKS["seen"].name)
    assert np.allclose(handle.get_facecolor()[0], points.get_facecolor()[0])  # the legend's dot is the points' dot
    assert np.all(points.get_facecolor()[:, 3] == 1)  # filled
    picture = ax.images[0]
    rgb = np.asarray(picture.get_array(), float)
    left, right, bottom, top = picture.get_extent()
    xy = points.get_offsets()
    ix = np.rint((xy[:, 0] - left) / (right - left) * (rgb.shape[1] - 1)).astype(int).clip(0, rgb.shape[1] - 1)
    iy = np.rint((xy[:, 1] - bottom) / (top - bottom) * (rgb.shape[0] - 1)).astype(int).clip(0, rgb.shape[0] - 1)
    assert np.linalg.norm(255 * (points.get_facecolor()[:, :3] - rgb[iy, ix]), axis=1).min() > 50


def test_landscape_refuses_bad_input(toy_runs, digits_runs):
    with pytest.raises(ValueError, match="non-empty dict"):
        confidence_landscape({})
    with pytest.raises(ValueError, match="2-D or 3-D"):
        confidence_landscape(digits_runs)


# ---- generalisation_gap -------------------------------------------------------------------------------------------

def test_gap_series_is_heldout_minus_unseen_as_a_fraction(toy_runs):
    series = gap_series(toy_runs)
    for name, run in toy_runs.items():
        rows = [r for r in run.history if "heldout/map@r" in r]
        s = series[name]
        assert list(s["epochs"]) == [r["epoch"] for r in rows]
        assert np.allclose(s["gap_mean"], [r["heldout/map@r"] - r["unseen/map@r"] for r in rows])
        assert s["n_seeds"] == 1


def test_gap_over_seeds_is_the_mean_with_a_sample_std():
    def history(offset):
        return [{"epoch": e, "unseen/map@r": 0.5 + offset, "heldout/map@r": 0.6 + e / 100} for e in (2, 4, 6)]
    series = gap_series({"baseline": [history(0.0), history(0.02)]})["baseline"]
    assert series["n_seeds"] == 2
    assert np.allclose(series["unseen_mean"], 0.51) and np.allclose(series["unseen_std"], np.std([0.5, 0.52], ddof=1))
    assert np.allclose(series["gap_mean"], [0.10 + 0.02 - 0.01, 0.10 + 0.04 - 0.01, 0.10 + 0.06 - 0.01])
    fig = generalisation_gap({"baseline": [history(0.0), history(0.02)]})
    assert any(t.fill == "toself" for t in fig.data)  # the ± 1 std band
    assert isinstance(generalisation_gap({"b": [history(0.0)]}, backend="matplotlib"), Figure)


def test_gap_needs_held_out_items(digits_runs):
    with pytest.raises(ValueError, match="holdout_per_class"):
        generalisation_gap(digits_runs)
    assert len(gap_series(digits_runs, reference="seen")["baseline"]["epochs"]) == 3


# ---- synthetic_density --------------------------------------------------------------------------------------------

def projection(seed=0):
    rng = np.random.default_rng(seed)
    points = np.concatenate([rng.normal(0, 1, (40, 2)), rng.normal(5, 1, (30, 2))])
    splits = np.array(["seen"] * 40 + ["unseen"] * 30)
    labels = np.concatenate([np.arange(40) % 4, np.arange(30) % 3])
    cloud = rng.normal(5, 0.5, (200, 2))
    return UMAPProjection(points, labels, splits, {"seen": list("abcd"), "unseen": list("xyz")},
                          {CLOUD: cloud, "proxies": rng.normal(0, 1, (4, 2))},
                          {CLOUD: np.arange(200), "proxies": np.arange(4)})


def test_density_view_draws_the_cloud_as_a_density_under_the_points():
    projections = {"baseline": projection(0), "with PS": projection(1)}
    measures = {"with PS": {"unseen_closer_to_synthetic": 0.42, "heldout_closer_to_synthetic": 0.07}}
    fig = synthetic_density(projections, measures=measures)
    contours = [t for t in fig.data if isinstance(t, go.Contour)]
    assert len(contours) == 2
    for contour, p in zip(contours, projections.values()):
        xs, ys, density = density_grid(p.extras[CLOUD], [tuple(fig.layout.xaxis.range), tuple(fig.layout.yaxis.range)])
        assert np.allclose(np.asarray(contour.z), density)
        peak = np.unravel_index(np.argmax(density), density.shape)
        assert abs(xs[peak[1]] - 5) < 1.5 and abs(ys[peak[0]] - 5) < 1.5  # dense where the cloud is
    order = [t.name for t in fig.data[:4]]
    assert order[0] == "where synthetic points are dense" and order[-1] == MARKS["unseen"].name
    assert "42%" in fig.layout.annotations[1].text and "7%" in fig.layout.annotations[1].text
    proxies = [t for t in fig.data if t.name == MARKS["proxy"].name][0]
    seen = [t for t in fig.data if t.name == MARKS["seen"].name][0]
    assert proxies.marker.symbol == "diamond-open" and proxies.marker.size <= seen.marker.size + 1
    assert isinstance(synthetic_density(projections, backend="matplotlib"), Figure)


def test_density_view_needs_synthetic_points():
    bare = projection()
    bare.extras.pop(CLOUD)
    with pytest.raises(ValueError, match="synthetic points"):
        synthetic_density({"run": bare})


# ---- the batch view with many classes -------------------------------------------------------------------------------

def many_class_batch(lam):
    g = torch.Generator().manual_seed(0)
    embeddings, proxies = torch.randn(32, 16, generator=g), torch.randn(100, 16, generator=g)
    labels = torch.arange(32) % 5 * 7  # five of the hundred classes
    return proxy_synthesis(embeddings, proxies, labels, lam=lam, generator=g)


def test_many_classes_draw_only_the_batch_proxies_and_warn_near_lambda_0():
    fig = synthetic_embeddings(many_class_batch(0.02))
    proxies = [t for t in fig.data if t.name == MARKS["proxy"].name][0]
    assert len(proxies.x) == 5
    title = fig.layout.title.text
    assert "95 others left out" in title and "near 0" in title
    everything = synthetic_embeddings(many_class_batch(0.02), proxies="all")
    assert len([t for t in everything.data if t.name == MARKS["proxy"].name][0].x) == 100
    widget = go.Figure(fig)
    set_lambda(widget, many_class_batch(0.02), 0.5)
    assert "λ = 0.50" in widget.layout.title.text and "near" not in widget.layout.title.text
    slider_titles = [step.args[1]["title.text"] for step in fig.layout.sliders[0].steps]
    assert any("λ = 0.50" in t and "near" not in t for t in slider_titles)  # the slider moves the subtitle too
    with pytest.raises(ValueError, match="proxies must be one of"):
        synthetic_embeddings(many_class_batch(0.5), proxies="some")


# ---- mechanism_measures on real runs ------------------------------------------------------------------------------

def test_mechanism_measures_of_toy_runs(toy3_runs):
    for run in toy3_runs.values():
        m = mechanism_measures(run)
        for key in ("transition_width", "unseen_confidence", "heldout_confidence", "unseen_closer_to_synthetic",
                    "heldout_closer_to_synthetic"):
            assert 0.0 <= m[key] <= 1.0, key
        assert 1 / 4 <= m["unseen_confidence"] <= 1.0
        assert m["zone_entropy"] >= 0 and 0 < m["mean_gap_deg"] <= 180
    a, b = (mechanism_measures(run) for run in toy3_runs.values())
    assert a != b


def test_synthetic_points_count_and_classes(toy3_runs, digits_runs):
    run = toy3_runs["with PS"]
    assert synthetic_points(run).shape == (run.loss.proxies.shape[0], 3)
    assert synthetic_points(run, 150).shape == (150, 3)
    digits = digits_runs["baseline"]
    export = export_embeddings(digits, "seen")
    picked = synthetic_points(digits, 64, classes=[0, 1])
    seen, labels = export.part("seen")
    centres = torch.stack([seen[labels == c].mean(0) for c in range(5)])
    nearest = (picked @ centres.T).argmax(1)
    assert torch.isin(nearest, torch.tensor([0, 1])).float().mean() >= 0.9  # mixes of 0 and 1 lie near them
