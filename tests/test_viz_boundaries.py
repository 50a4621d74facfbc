"""Decision regions of real toy runs on the circle, the sphere and in input space, and their side-by-side figures."""

import numpy as np
from matplotlib.colors import to_rgb
import pytest
import torch
import torch.nn.functional as F

from psviz.evaluate import boundary_measures, boundary_smoothness, nearest_proxy, unseen_confidence
from psviz.train import export_embeddings
from psviz.viz._space import MAX_ELEVATION, cut_regions, facing_direction, sphere_triangles
from psviz.analysis.boundaries import BoundaryView, boundary_view
from psviz.viz.boundaries import REGIONS, decision_boundaries, region_mesh
from psviz.viz.landscape import confidence_landscape
from psviz.viz.style import LINE_SPACING, MARKS, class_colour, panel_titles, text_lines, title_height

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
    surfaces = [t for t in fig.data if t.type == "mesh3d"]
    assert len(surfaces) == 2
    grid = views["baseline"].grid.reshape(-1, 3)  # the grid's points come first, each with its winner
    assert np.allclose(np.stack([surfaces[0].x, surfaces[0].y, surfaces[0].z], 1)[:len(grid)], grid)
    assert np.array_equal(np.asarray(surfaces[0].intensity)[:len(grid)] - 0.5, views["baseline"].winner.ravel())
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


# ---- smooth region edges on the sphere ---------------------------------------------------------------------------

def test_cut_regions_splits_a_triangle_where_the_scores_tie():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # corner 0 won by class 0, corners 1 and 2 by class 1; s0 - s1 is 3 at corner 0 and -1 at corners 1 and 2, so
    # the tie is 3/4 of the way along each edge from corner 0
    scores = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    triangles, labels, values = cut_regions(np.array([[0, 1, 2]]), np.array([0, 1, 1]), points, scores)
    assert np.array_equal(values[:3], points) and np.array_equal(labels[:3], [0, 1, 1])  # the input points first
    assert len(triangles) == 3  # the corner's triangle and the far side's quadrilateral
    assert all(len(set(labels[t])) == 1 for t in triangles)  # no triangle spans two classes
    cuts = {tuple(np.round(v, 6)) for v in values[3:]}
    assert cuts == {(0.75, 0.0), (0.0, 0.75)}
    corner = next(t for t in triangles if labels[t[0]] == 0)

    def area(t):
        (x1, y1), (x2, y2) = values[t[1]] - values[t[0]], values[t[2]] - values[t[0]]
        return 0.5 * abs(x1 * y2 - x2 * y1)
    assert area(corner) == pytest.approx(0.75 ** 2 / 2) and sum(map(area, triangles)) == pytest.approx(0.5)
    # without scores, the middle of each edge; three classes meet at the centre
    triangles, labels, values = cut_regions(np.array([[0, 1, 2]]), np.array([0, 1, 2]), points)
    assert len(triangles) == 6 and all(len(set(labels[t])) == 1 for t in triangles)
    assert {tuple(np.round(v, 6)) for v in values[3:]} == {(0.5, 0.0), (0.5, 0.5), (0.0, 0.5), (round(1 / 3, 6), round(1 / 3, 6))}
    # a triangle of one class is left as it is
    triangles, labels, values = cut_regions(np.array([[0, 1, 2]]), np.array([1, 1, 1]), points, scores)
    assert triangles.tolist() == [[0, 1, 2]] and len(values) == 3


@pytest.mark.parametrize("name", ["baseline", "with PS"])
def test_sphere_regions_are_drawn_to_where_the_classes_tie(sphere, name):
    """Region edges follow the loss's own boundary, not the grid: each point that cuts a triangle lies where its two
    best classes tie, whereas the grid's own points beside a boundary, or the middles of its cells' edges (where a
    cell-by-cell drawing puts an edge at best), are well inside one region."""
    run, _, view = sphere[name]
    vertices, triangles, labels, _ = region_mesh(view)
    n = view.grid.shape[0] * view.grid.shape[1]
    assert np.allclose(vertices[:n], view.grid.reshape(-1, 3)) and np.allclose(np.linalg.norm(vertices, axis=1), 1)
    assert all(len(set(row)) == 1 for row in labels[triangles])  # each triangle coloured by one class
    assert len(vertices) > n  # the boundaries cut some

    def tie_gap(directions):  # log-probability of the best class minus the second best
        logs = np.sort(run.loss.probabilities(torch.from_numpy(directions).float()).log().numpy(), axis=1)
        return logs[:, -1] - logs[:, -2]

    at_cuts = tie_gap(vertices[n:])
    grid_triangles = sphere_triangles(*view.grid.shape[:2])
    edges = np.concatenate([grid_triangles[:, [0, 1]], grid_triangles[:, [1, 2]], grid_triangles[:, [2, 0]]])
    winner = view.winner.reshape(-1)
    crossing = edges[winner[edges[:, 0]] != winner[edges[:, 1]]]
    middles = vertices[crossing].mean(axis=1)
    at_middles = tie_gap(middles / np.linalg.norm(middles, axis=1, keepdims=True))
    at_grid = tie_gap(vertices[crossing[:, 0]])
    assert np.median(at_cuts) < 0.01
    assert np.percentile(at_cuts, 90) < 0.25 * np.median(at_middles) < 0.25 * np.median(at_grid)
    # each cut point is coloured by one of the two classes that tie there
    best_two = np.argsort(run.loss.probabilities(torch.from_numpy(vertices[n:]).float()).numpy(), axis=1)[:, -2:]
    assert np.mean([label in row for label, row in zip(labels[n:], best_two)]) > 0.97


def test_plotly_sphere_regions_never_blend_two_classes_in_a_triangle(sphere):
    views = {name: entry[-1] for name, entry in sphere.items()}
    for fig in (decision_boundaries(views), confidence_landscape(views)):
        for mesh in (t for t in fig.data if t.type == "mesh3d"):
            classes = np.floor(np.asarray(mesh.intensity)).astype(int)  # both figures: class c lies in [c, c + 1)
            corners = np.stack([classes[np.asarray(mesh[k])] for k in ("i", "j", "k")], 1)
            assert np.all(corners == corners[:, :1])
            assert mesh.flatshading is False  # colours shade smoothly across triangles, not a block per cell


# ---- cameras and titles -----------------------------------------------------------------------------------------

def _eye(camera) -> np.ndarray:
    eye = np.array([camera.eye.x, camera.eye.y, camera.eye.z], float)
    return eye / np.linalg.norm(eye)


def _degrees_between(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def test_plotly_sphere_cameras_face_the_points_as_matplotlib_does(sphere):
    views = {name: entry[-1] for name, entry in sphere.items()}
    mpl = decision_boundaries(views, backend="matplotlib")
    for fig in (decision_boundaries(views), confidence_landscape(views)):
        scenes = [fig.layout.scene, fig.layout.scene2]
        for scene, ax, view in zip(scenes, mpl.axes, views.values()):
            eye = _eye(scene.camera)
            mean = facing_direction(view.points)
            assert mean is not None
            # along the points' mean direction; only a mean near a pole is tilted, to keep z up
            assert _degrees_between(eye, mean) <= max(0.0, abs(np.degrees(np.arcsin(mean[2]))) - MAX_ELEVATION) + 1e-6
            unit = view.points / np.linalg.norm(view.points, axis=1, keepdims=True)
            assert np.mean(unit @ eye > 0) > 0.5  # most points on the side the reader sees
            elev, azim = np.radians(ax.elev), np.radians(ax.azim)  # one function aims both backends
            mpl_eye = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
            assert _degrees_between(eye, mpl_eye) < 1e-3


def test_camera_faces_a_cluster_anywhere_on_the_sphere(sphere):
    _, _, view = sphere["baseline"]
    from psviz.viz.boundaries import plotly_camera
    rng = np.random.default_rng(0)
    for centre in ([1.0, 0, 0], [-0.3, -0.9, 0.2], [0, 0.2, -1.0]):
        centre = np.array(centre) / np.linalg.norm(centre)
        points = centre + 0.2 * rng.standard_normal((200, 3))
        moved = BoundaryView(**{**view.__dict__, "points": points, "labels": np.zeros(200, int),
                                "splits": np.array(["seen"] * 200)})
        eye = _eye(type("C", (), {"eye": type("E", (), plotly_camera(moved)["eye"])})())
        tilt = max(0.0, abs(np.degrees(np.arcsin(facing_direction(points)[2]))) - MAX_ELEVATION)
        assert _degrees_between(eye, facing_direction(points)) <= tilt + 1e-6
        assert _degrees_between(eye, centre) < tilt + 5


def _figures(circle, sphere, plane):
    """Every plotly figure of both functions, in each kind of space."""
    for source in (circle, sphere, plane):
        views = {name: entry[-1] for name, entry in source.items()}
        yield decision_boundaries(views), 2
        yield confidence_landscape(views), 2
        yield confidence_landscape({"with PS": views["with PS"]}), 1  # one panel, as the live widget draws


def test_titles_subtitles_and_panel_titles_do_not_overlap(circle, sphere, plane):
    """The title block (title and subtitle, from the figure's top) ends above the panel titles, which hang above the
    plot area in the top margin: in paper coordinates, the panel titles' top is below the subtitle's bottom, at any
    width (only heights count; plotly does not wrap these lines)."""
    for fig, n_panels in _figures(circle, sphere, plane):
        title = fig.layout.title
        assert (title.yref, title.y, title.yanchor) == ("container", 1, "top") and title.subtitle.text
        plot_height = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
        subtitle_bottom = 1 + (fig.layout.margin.t - title_height(title.subtitle.text)) / plot_height  # paper y
        panels = panel_titles(fig)
        assert len(panels) == n_panels
        for panel in panels:
            assert (panel.yref, panel.yanchor, panel.y) == ("paper", "bottom", 1.0)
            top = 1 + text_lines(panel.text) * LINE_SPACING * panel.font.size / plot_height
            assert top < subtitle_bottom
        # the legend (with the landscape's note as its title) sits at the figure's foot, where plotly makes room
        assert (fig.layout.legend.yref, fig.layout.legend.y, fig.layout.legend.yanchor) == ("container", 0, "bottom")
        assert not any(a.yref == "paper" and a.y is not None and a.y < 0 for a in fig.layout.annotations)
        assert fig.layout.width is None  # takes its notebook column's width


@pytest.mark.parametrize("kind", ["circle", "sphere", "input"])
def test_matplotlib_titles_and_legend_clear_the_panels_in_one_drawing(kind, circle, sphere, plane):
    """As a notebook shows it (one savefig): every panel, with its title and axis labels, sits below the figure's
    title and above the legend (the landscape's input-plane images once took a second drawing to get there)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    views = {name: entry[-1] for name, entry in {"circle": circle, "sphere": sphere, "input": plane}[kind].items()}
    for draw in (decision_boundaries, confidence_landscape):
        fig = draw(views, backend="matplotlib")
        FigureCanvasAgg(fig)
        fig.savefig(io.BytesIO(), format="png")
        renderer = fig.canvas.get_renderer()
        top = fig._suptitle.get_window_extent(renderer).y0
        legend = fig.legends[0].get_window_extent(renderer)
        for ax in fig.axes:
            panel = ax.get_tightbbox(renderer)
            assert panel.y1 <= top + 1, f"{draw.__name__}: a panel reaches into the title"
            assert panel.y0 >= legend.y1 - 1 or panel.x1 <= legend.x0 or panel.x0 >= legend.x1, \
                f"{draw.__name__}: the legend covers a panel"


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


def test_a_one_run_landscape_titled_with_its_run_does_not_name_it_twice(sphere):
    view = sphere["with PS"][-1]
    own = confidence_landscape({"with PS": view}, title="with PS: epoch 10 · unseen MAP@R 64.2")
    (panel,) = panel_titles(own)
    assert "with PS" not in panel.text and "confidence on unseen points" in panel.text  # the caption stays
    plain = confidence_landscape({"with PS": view}, title="Where the loss is sure")
    assert panel_titles(plain)[0].text.startswith("<b>with PS</b>")  # a title that does not name it: the panel does
