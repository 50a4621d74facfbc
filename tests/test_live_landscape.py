"""LiveLandscape: the epoch-0 figure before training, in-place redraws that follow the training run, the time budget,
and a training run that learns exactly what it learns without it."""

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from psviz.train import fit, preset
from psviz.analysis import boundary_view
from psviz.viz.boundaries import plotly_camera
from psviz.viz.landscape import coded, sphere_mesh
from psviz.widgets import LiveLandscape

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _landscape_values(fig):
    trace = fig.data[0]
    if isinstance(trace, go.Barpolar):
        return np.asarray(trace.marker.color, float)
    return np.asarray(trace.intensity, float)


@pytest.mark.slow
@pytest.mark.parametrize("dim", [2, 3])
def test_redraws_follow_the_run_in_place_and_leave_its_training_unchanged(dim):
    config = preset("toy", ps=True, seed=3, embedding_dim=dim, epochs=6, eval_every=3)
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    live = LiveLandscape(config, budget=1.0)  # budget 1: every epoch may redraw on a run this short
    assert torch.equal(torch.rand(3), expected_draw)  # making the widget leaves the caller's random stream alone
    assert "epoch 0 (before training)" in live.figure.layout.title.text and live.redraws == 0
    first = live.figure

    plain = fit(config, progress=False)
    watched = fit(config, progress=False, callbacks=[live])
    for a, b in zip(plain.model.state_dict().values(), watched.model.state_dict().values()):
        assert torch.equal(a, b)  # drawing changes nothing the run learns
    assert torch.equal(plain.loss.proxy_tensor(), watched.loss.proxy_tensor())

    assert live.figure is first  # redrawn in place: one widget, updated, not a fresh one per epoch
    assert live.redraws >= 1
    assert live.figure.layout.title.text.startswith("with PS: epoch")  # the title names the run, the panel not again
    assert "with PS" not in live.figure.layout.annotations[0].text
    live.finish(watched)
    view = boundary_view(watched, name=live.name, resolution=live.resolution, max_points=live.max_points)
    if dim == 2:
        assert np.array_equal(_landscape_values(live.figure), coded(view)[0])
    else:  # the sphere's mesh is cut along the boundaries, which move: its points and triangles are redrawn too
        mesh = sphere_mesh(view)
        assert np.array_equal(_landscape_values(live.figure), mesh["intensity"])
        for key in ("x", "y", "z", "i", "j", "k"):
            assert np.array_equal(np.asarray(live.figure.data[0][key]), mesh[key])
    assert "epoch 6" in live.figure.layout.title.text and "unseen MAP@R" in live.figure.layout.title.text


@pytest.mark.slow
def test_the_sphere_s_camera_follows_the_points_until_the_reader_turns_it():
    config = preset("toy", ps=True, seed=3, epochs=4, eval_every=4)
    live = LiveLandscape(config, budget=1.0)

    def eye():
        e = live.figure.layout.scene.camera.eye
        return np.array([e.x, e.y, e.z])

    start = eye()
    run = fit(config, progress=False, callbacks=[live])
    live.finish(run)
    view = boundary_view(run, resolution=live.resolution, max_points=live.max_points)
    expected = plotly_camera(view)["eye"]
    assert np.allclose(eye(), [expected[k] for k in "xyz"])  # facing the trained points
    assert not np.allclose(eye(), start)  # they moved while training, and the camera went with them
    live.figure.layout.scene.camera.eye = dict(x=0.1, y=-2.0, z=0.3)  # the reader drags the sphere round
    live.finish(run)
    assert np.allclose(eye(), [0.1, -2.0, 0.3])  # a redraw leaves the reader's view alone


def test_the_budget_bounds_the_drawing_time():
    config = preset("toy", ps=False, seed=0, embedding_dim=2, epochs=12, eval_every=12)
    live = LiveLandscape(config, budget=0.05)
    fit(config, progress=False, callbacks=[live])
    # a redraw is allowed only while drawn time plus the last redraw's cost fits in budget x trained time, so the
    # total can exceed the budget by at most the cost of one redraw
    assert live.draw_seconds <= 0.05 * live.train_seconds + live._last_cost + 1e-9
    assert live.redraws < 12


@pytest.mark.parametrize("changes, message", [
    ({"embedding_dim": 8}, "embedding_dim is 8"),
])
def test_bad_configs_say_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=message):
        LiveLandscape(preset("toy", **changes))
    with pytest.raises(ValueError, match="budget"):
        LiveLandscape(preset("toy"), budget=0)
    with pytest.raises(ValueError, match="TrainConfig"):
        LiveLandscape({"dataset": "toy"})
