"""Decision regions of real toy runs on the circle, the sphere and in input space, and their side-by-side figures."""

import numpy as np
from matplotlib.colors import to_rgb
import pytest
import torch
import torch.nn.functional as F

from psviz.evaluate import boundary_measures, boundary_smoothness, nearest_proxy, unseen_confidence
from psviz.train import export_embeddings
from psviz.viz.boundaries import REGIONS, BoundaryView, boundary_view, decision_boundaries
from psviz.viz.style import MARKS, class_colour

SEEN, UNSEEN, PROXY = (MARKS[k].name for k in ("seen", "unseen", "proxy"))


@pytest.fixture(scope="module")
def circle(toy_runs):
    """name -> (run, its export, its circle BoundaryView)."""
    return {name: (run, export_embeddings(run), boundary_view(run, name=name)) for name, run in toy_runs.items()}


@pytest.fixture(scope="module")
def sphere(toy3_runs):
    return {name: (run, export_embeddings(run), boundary_view(run, name=name, resolution=40))
            for name, run in toy3_runs.items()}


@pytest.fixture(scope="module")
def plane(toy_runs):
    return {name: (run, boundary_view(run, space="input", name=name, resolution=60)) for name, run in toy_runs.items()}


def expected_measures(run, export):
    """The panel's measures recomputed from the run's export with psviz.evaluate (NormSoftmax scores are cosines,
    so the nearest proxy is the winning class)."""
    unseen, labels = export.part("unseen")
    return boundary_measures(export.proxies, unseen, labels)


def caption_parts(measures):
    return [f"proxy gap {measures['mean_gap_deg']:.1f}°", f"(min {measures['min_gap_deg']:.1f}°)",
            f"unseen sharing {100 * measures['unseen_sharing']:.0f}%"]


def proxy_directions(run):
    return F.normalize(run.loss.proxy_tensor().detach().float().cpu(), dim=-1).numpy()


# ---- views ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["baseline", "with PS"])
def test_on_the_circle_each_proxy_wins_its_own_direction(circle, name):
    run, _, view = circle[name]
    assert view.kind == "circle" and view.grid.shape == view.winner.shape == (1440,)
    assert np.allclose(view.proxies, proxy_directions(run), atol=1e-6)
    assert view.proxy_labels.tolist() == list(range(run.loss.n_classes))
    for direction, label in zip(view.proxies, view.proxy_labels):
        angle = np.arctan2(direction[1], direction[0])
        nearest = np.argmin(np.abs(np.angle(np.exp(1j * (view.grid - angle)))))
        assert view.winner[nearest] == label
    assert set(view.winner.tolist()) == set(range(run.loss.n_classes))


@pytest.mark.parametrize("name", ["baseline", "with PS"])
def test_circle_regions_are_the_nearest_proxy_everywhere(circle, name):
    run, _, view = circle[name]
    directions = torch.from_numpy(np.stack([np.cos(view.grid), np.sin(view.grid)], 1)).float()
    expected = nearest_proxy(directions, run.loss.proxy_tensor()).numpy()
    assert (expected != view.winner).sum() <= 2  # only a direction exactly on a boundary may differ


@pytest.mark.parametrize("name", ["baseline", "with PS"])
def test_measures_equal_the_geometry_of_the_export(circle, name):
    run, export, view = circle[name]
    expected = expected_measures(run, export)
    expected.update(boundary_smoothness(run.loss))  # the landscape's measures ride along
    unseen, _ = export.part("unseen")
    expected["unseen_confidence"] = unseen_confidence(run.loss, unseen)
    assert set(view.measures) == set(expected)
    for key, value in expected.items():
        assert view.measures[key] == pytest.approx(value, abs=1e-3)
    assert 0 < view.measures["min_gap_deg"] <= view.measures["mean_gap_deg"] <= 180
    assert 0 <= view.measures["unseen_sharing"] <= 1


def test_ps_and_baseline_measures_differ(circle):
    # the two runs trained differently: the captions must not be copies of one another
    assert circle["baseline"][2].measures != circle["with PS"][2].measures


def test_points_are_the_export_and_max_points_subsamples(circle):
    run, export, view = circle["with PS"]
    assert np.allclose(view.points, export.embeddings.numpy())
    assert np.array_equal(view.labels, export.labels.numpy()) and np.array_equal(view.splits, export.splits)
    assert view.class_names == export.class_names and view.n_seen == run.loss.n_classes
    small = boundary_view(run, max_points=100, resolution=90)
    assert len(small.points) == 100 and small.winner.shape == (90,)
    rows = {tuple(np.round(r, 5)) for r in export.embeddings.numpy()}
    assert all(tuple(np.round(r, 5)) in rows for r in small.points)


@pytest.mark.parametrize("name", ["baseline", "with PS"])
def test_on_the_sphere_each_proxy_wins_its_own_direction(sphere, name):
    run, export, view = sphere[name]
    assert view.kind == "sphere"
    assert view.grid.shape == (40, 80, 3) and view.winner.shape == (40, 80)
    assert np.allclose(np.linalg.norm(view.grid, axis=-1), 1.0, atol=1e-6)
    flat = view.grid.reshape(-1, 3)
    for direction, label in zip(proxy_directions(run), range(run.loss.n_classes)):
        assert view.winner.reshape(-1)[np.argmax(flat @ direction)] == label
    expected = nearest_proxy(torch.from_numpy(flat).float(), run.loss.proxy_tensor()).numpy()
    assert (expected != view.winner.reshape(-1)).sum() <= 2
    measures = expected_measures(run, export)
    for key, value in measures.items():
        assert view.measures[key] == pytest.approx(value, abs=1e-3)


@pytest.mark.parametrize("name", ["baseline", "with PS"])
def test_input_space_regions_are_the_model_s_winning_class(plane, name):
    run, view = plane[name]
    assert view.kind == "input" and view.proxies is None
    xs, ys = view.grid
    assert view.winner.shape == (len(ys), len(xs)) == (60, 60)
    assert xs[0] < view.points[:, 0].min() and xs[-1] > view.points[:, 0].max()
    assert ys[0] < view.points[:, 1].min() and ys[-1] > view.points[:, 1].max()
    # 4 seen classes of 100 points, 20 of each held out of training, and 4 unseen classes of 100
    assert len(view.points) == 4 * 80 + 4 * 100 and set(view.splits.tolist()) == {"seen", "unseen"}
    grid = torch.tensor([[x, y] for y in ys for x in xs], dtype=torch.float32)
    was_training = run.model.training
    run.model.eval()
    with torch.no_grad():
        expected = nearest_proxy(run.model(grid), run.loss.proxy_tensor()).numpy().reshape(60, 60)
    run.model.train(was_training)
    assert (expected != view.winner).sum() <= 2
    # the trained model puts most seen training points in their own class's region
    seen = view.splits == "seen"
    ix = np.abs(view.points[seen, 0][:, None] - xs[None, :]).argmin(1)
    iy = np.abs(view.points[seen, 1][:, None] - ys[None, :]).argmin(1)
    assert (view.winner[iy, ix] == view.labels[seen]).mean() > 0.8


def test_input_view_leaves_the_model_mode_alone(toy_runs):
    run = toy_runs["baseline"]
    before = run.model.training
    boundary_view(run, space="input", resolution=10)
    assert run.model.training == before


# ---- figures -----------------------------------------------------------------------------------------------------

def legend_names(fig):
    return [t.name for t in fig.data if t.showlegend is not False]


def subplot_refs(fig):
    return sorted({t.xaxis for t in fig.data if getattr(t, "xaxis", None)})


def test_circle_figure_panels_titles_legend_and_fixed_ranges(circle):
    views = {name: view for name, (_, _, view) in circle.items()}
    fig = decision_boundaries(views)
    assert subplot_refs(fig) == ["x", "x2"]
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 2
    for title, (name, (run, export, _)) in zip(titles, circle.items()):
        assert title.startswith(name)
        for part in caption_parts(expected_measures(run, export)):
            assert part in title
    shown = legend_names(fig)
    assert sorted(shown) == sorted({REGIONS, SEEN, UNSEEN, PROXY})  # each once, though both panels draw them
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        assert tuple(fig.layout[axis].range) == (-1.45, 1.45)
    assert fig.layout.yaxis2.scaleanchor == "x2"
    for t in fig.data:
        if t.mode == "markers":
            assert np.abs(np.asarray(t.x, float)).max() < 1.45 and np.abs(np.asarray(t.y, float)).max() < 1.45
    for col, (run, _, _) in enumerate((v for v in circle.values()), start=1):
        proxies = [t for t in fig.data if t.name == PROXY and t.xaxis == ("x" if col == 1 else f"x{col}")]
        assert len(proxies) == 1
        assert np.allclose(np.stack([proxies[0].x, proxies[0].y], 1), proxy_directions(run), atol=1e-6)
    # one region trace per run of equal winners around the circle
    regions = [t for t in fig.data if t.name == REGIONS and t.xaxis == "x"]
    winner = views["baseline"].winner
    assert len(regions) == 1 + np.count_nonzero(np.diff(winner))


def test_circle_figure_from_runs_draws_points_on_rings(toy_runs, circle):
    fig = decision_boundaries(toy_runs, resolution=360)
    seen = [t for t in fig.data if t.name == SEEN]
    unseen = [t for t in fig.data if t.name == UNSEEN]
    assert len(seen) == len(unseen) == 2
    radius = np.hypot(np.asarray(seen[0].x, float), np.asarray(seen[0].y, float))
    assert np.allclose(radius, radius[0]) and radius[0] < 1
    outer = np.hypot(np.asarray(unseen[0].x, float), np.asarray(unseen[0].y, float))
    assert outer.min() > radius[0]
    # the direction of each drawn point is the direction of its embedding
    _, export, _ = circle["baseline"]
    seen_rows = export.part("seen")[0].numpy()
    drawn = np.stack([seen[0].x, seen[0].y], 1) / radius[:, None]
    assert np.allclose(drawn, seen_rows / np.linalg.norm(seen_rows, axis=1, keepdims=True), atol=1e-5)


def test_sphere_figure(sphere):
    views = {name: view for name, (_, _, view) in sphere.items()}
    fig = decision_boundaries(views)
    assert sorted({t.scene for t in fig.data}) == ["scene", "scene2"]
    assert sorted(legend_names(fig)) == sorted({REGIONS, SEEN, UNSEEN, PROXY})
    for scene in (fig.layout.scene, fig.layout.scene2):
        for axis in (scene.xaxis, scene.yaxis, scene.zaxis):
            assert tuple(axis.range) == (-1.1, 1.1)
    titles = [a.text for a in fig.layout.annotations]
    for title, (run, export, _) in zip(titles, sphere.values()):
        assert all(part in title for part in caption_parts(expected_measures(run, export)))
    surfaces = [t for t in fig.data if t.type == "surface"]
    assert len(surfaces) == 2
    assert np.array_equal(np.asarray(surfaces[0].surfacecolor) - 0.5, views["baseline"].winner)
    # opaque: a see-through sphere mixes front and back regions into colours no class has
    assert all(surface.opacity == 1 for surface in surfaces)
    n = views["baseline"].n_seen
    tints = surfaces[0].colorscale
    for c in range(n):  # each class's band is its own colour, paled towards white (never another class's)
        (start, colour), (stop, same) = tints[2 * c], tints[2 * c + 1]
        assert (start, stop, same) == (pytest.approx(c / n), pytest.approx((c + 1) / n), colour)
        rgb = np.array([float(x) for x in colour[4:-1].split(",")]) / 255
        expected = 1 - 0.45 * (1 - np.array(to_rgb(class_colour(c))))
        assert np.allclose(rgb, expected, atol=1 / 255)


def test_input_figure(plane):
    views = {name: view for name, (_, view) in plane.items()}
    fig = decision_boundaries(views)
    assert subplot_refs(fig) == ["x", "x2"]
    assert sorted(legend_names(fig)) == sorted({REGIONS, SEEN, UNSEEN})
    xs, ys = views["baseline"].grid
    assert tuple(fig.layout.xaxis.range) == tuple(fig.layout.xaxis2.range) == (xs[0], xs[-1])
    assert tuple(fig.layout.yaxis.range) == tuple(fig.layout.yaxis2.range) == (ys[0], ys[-1])
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2
    assert np.array_equal(np.asarray(heatmaps[1].z) - 0.5, views["with PS"].winner)


def test_matplotlib_sphere_is_opaque_and_draws_the_points_its_camera_sees(sphere):
    views = {name: entry[-1] for name, entry in sphere.items()}
    fig = decision_boundaries(views, backend="matplotlib")
    for ax, view in zip(fig.axes, views.values()):
        elev, azim = np.radians(ax.elev), np.radians(ax.azim)
        eye = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
        points = [c for c in ax.collections if c.get_zorder() == 3]  # the seen and unseen scatters
        assert len(points) == 2
        drawn = np.concatenate([np.asarray(c._offsets3d).T for c in points])
        assert np.all(drawn @ eye > 0)  # none from behind the opaque sphere
        unit = view.points / np.linalg.norm(view.points, axis=1, keepdims=True)
        assert len(drawn) == np.sum(unit @ eye > 0) >= len(unit) / 2  # the camera faces the data
        surface = next(c for c in ax.collections if c.get_zorder() == 1)
        assert np.all(surface.get_facecolor()[:, 3] == 1)


@pytest.mark.parametrize("kind", ["circle", "sphere", "input"])
def test_matplotlib_variants(kind, circle, sphere, plane):
    source = {"circle": circle, "sphere": sphere, "input": plane}[kind]
    views = {name: entry[-1] for name, entry in source.items()}
    fig = decision_boundaries(views, backend="matplotlib")
    assert len(fig.axes) == 2
    assert all(ax.name == ("3d" if kind == "sphere" else "rectilinear") for ax in fig.axes)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(labels) == len(set(labels)) and {SEEN, UNSEEN} <= set(labels)
    if kind != "input":
        assert PROXY in labels
    for ax, (name, view) in zip(fig.axes, views.items()):
        title = ax.get_title()
        assert title.startswith(name) and all(part in title for part in caption_parts(view.measures))
    if kind != "sphere":
        assert fig.axes[0].get_xlim() == pytest.approx(fig.axes[1].get_xlim())
        assert fig.axes[0].get_ylim() == pytest.approx(fig.axes[1].get_ylim())
    if kind == "circle":
        assert fig.axes[0].get_xlim() == pytest.approx((-1.45, 1.45))
        assert REGIONS in labels


def test_precomputed_views_take_the_dict_name(circle):
    _, _, view = circle["baseline"]
    unnamed = BoundaryView(**{**view.__dict__, "name": ""})
    fig = decision_boundaries({"my run": unnamed})
    assert fig.layout.annotations[0].text.startswith("my run")


# ---- errors ------------------------------------------------------------------------------------------------------

def test_digits_runs_cannot_be_drawn_in_input_or_embedding_space(digits_runs):
    run = digits_runs["with PS"]
    with pytest.raises(ValueError, match="space='input' needs 2-D inputs"):
        boundary_view(run, space="input")
    with pytest.raises(ValueError, match="2-D or 3-D embeddings.*32"):
        boundary_view(run)
    with pytest.raises(ValueError, match="2-D inputs"):
        decision_boundaries(digits_runs, space="input")


def test_bad_arguments(toy_runs, circle, sphere):
    with pytest.raises(ValueError, match="space"):
        boundary_view(toy_runs["baseline"], space="umap")
    with pytest.raises(ValueError, match="FitResult"):
        boundary_view("a run")
    with pytest.raises(ValueError, match="backend"):
        decision_boundaries(toy_runs, backend="bokeh")
    with pytest.raises(ValueError, match="non-empty dict"):
        decision_boundaries({})
    with pytest.raises(ValueError, match="non-empty dict"):
        decision_boundaries([toy_runs["baseline"]])
    with pytest.raises(ValueError, match="FitResult"):
        decision_boundaries({"x": 3})
    with pytest.raises(ValueError, match="one kind of space"):
        decision_boundaries({"flat": circle["baseline"][2], "round": sphere["baseline"][2]})
