"""The widget panel and the grid runner, driven from Python as a notebook user would drive them."""

import json

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from psviz.widgets import AblationGrid, ProxySynthesisPanel, RunCache, panel_config, run_key
from psviz.train import plain_splits

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _xs(fig, name):
    return [np.asarray(t.x, dtype=float) for t in fig.data if t.name == name]


def test_run_key_ignores_what_does_not_change_a_run():
    base = panel_config("toy", loss="norm_softmax", ps=False, alpha=0.4, mu=1.0, seed=0)
    assert run_key(base) == run_key(base.replace(alpha=2.0, mu=0.5, output_dir="/tmp/x"))
    with_ps = base.replace(ps=True)
    assert run_key(with_ps) != run_key(with_ps.replace(alpha=2.0))
    assert run_key(with_ps) != run_key(with_ps.replace(seed=1))


@pytest.fixture(scope="module")
def panel():
    panel = ProxySynthesisPanel("toy", epochs=10)
    panel.train_button.click()
    assert panel.errors.last is None, panel.errors.widget.value
    return panel


@pytest.mark.slow
def test_train_button_draws_every_linked_figure(panel):
    names = {key: [t.name for t in fig.data] for key, fig in panel.figures.items()}
    assert "synthetic embedding" in names["synthetic"] and "synthetic proxy" in names["synthetic"]
    assert names["boundaries"].count("unseen-class embedding") == 2  # baseline and PS panels
    assert "synthetic embedding" in names["umap"] and names["umap"].count("proxy") == 2
    assert names["recall"] == ["baseline · unseen", "with PS · unseen"]
    assert "R@1" in panel.status.value and not panel.train_button.disabled
    assert set(panel.runs) == {"baseline", "with PS"}
    assert panel.runs["with PS"].config.ps and not panel.runs["baseline"].config.ps


@pytest.mark.slow
def test_explore_opens_the_explorer_of_the_current_runs_and_a_retrain_closes_it():
    panel = ProxySynthesisPanel("digits", epochs=1, umap=False)
    assert panel.explore_button.disabled  # nothing to explore before Train
    panel.train_button.click()
    panel.explore_button.click()
    assert panel.errors.last is None, panel.errors.widget.value
    explorer = panel.explorer_box.children[0]
    assert explorer is panel.explorer and explorer.explorer_data.runs == ["baseline", "with PS"]
    assert explorer.explorer_data.projection == "PCA" and explorer.explorer_data.sprite is not None
    n_items = sum(len(part) for split in ("seen", "unseen") for part in plain_splits(panel.runs["with PS"].config)[split])
    assert len(explorer.explorer_data) == n_items
    panel.seed.value = 1
    panel.train_button.click()
    assert panel.explorer_box.children == ()  # the explorer of the earlier runs is gone


@pytest.mark.slow
def test_lambda_slider_moves_synthetic_points_without_training(panel):
    misses = panel.cache.misses
    before = _xs(panel.figures["synthetic"], "synthetic embedding")[0]
    panel.lam.value = 0.0 if panel.lam.value > 0.5 else 1.0
    after = _xs(panel.figures["synthetic"], "synthetic embedding")[0]
    assert not np.allclose(before, after)
    # at lam = 1 each synthetic point is its first source; at lam = 0 its partner
    source = panel.batch.pairs[:, 0 if panel.lam.value == 1.0 else 1]
    real = panel.batch.embeddings[source, 0].numpy()
    assert np.allclose(after, real, atol=1e-5)
    assert panel.cache.misses == misses


@pytest.mark.slow
def test_changing_alpha_then_train_changes_the_figures_and_going_back_is_cached(panel):
    first_ps = panel.runs["with PS"]
    boundaries_before = [np.asarray(t.x, dtype=float) for t in panel.figures["boundaries"].data
                         if t.name == "proxy"][1]
    misses = panel.cache.misses
    old_alpha = panel.alpha.value
    panel.alpha.value = 2.0
    assert "press" in panel.status.value  # not trained yet for these settings
    panel.train_button.click()
    assert panel.errors.last is None, panel.errors.widget.value
    assert panel.cache.misses == misses + 1  # only the PS run is new; the baseline came from the cache
    assert panel.runs["with PS"] is not first_ps and panel.runs["with PS"].config.alpha == 2.0
    boundaries_after = [np.asarray(t.x, dtype=float) for t in panel.figures["boundaries"].data
                        if t.name == "proxy"][1]
    assert not np.allclose(boundaries_before, boundaries_after)
    panel.alpha.value = old_alpha  # back to trained settings: redrawn at once from the cache
    assert "from the cache" in panel.status.value
    assert panel.runs["with PS"] is first_ps
    assert panel.cache.misses == misses + 1


@pytest.mark.slow
def test_a_slider_value_off_its_grid_finds_the_cached_runs(panel):
    """Dragging α back to a readout of 0.40 can leave 0.39999999999999997 in the slider: still a cache hit."""
    trained = panel.configs()["with PS"].alpha
    panel.alpha.value = 2.0
    panel.alpha.value = trained - 5.551115123125783e-17  # the float a drag can leave behind
    assert panel.configs()["with PS"].alpha == trained
    assert "from the cache" in panel.status.value


@pytest.mark.slow
def test_landscape_tab_shows_both_runs_live(panel):
    assert set(panel.live) == {"baseline", "with PS"}
    assert all(live.redraws >= 1 for live in panel.live.values())  # finish() drew the final state at least
    titles = [panel.tabs.get_title(i) for i in range(len(panel.tabs.children))]
    assert "landscape" in titles and all(len(t) <= 16 for t in titles)  # short: not truncated in a column


def test_an_error_in_a_callback_is_shown_in_the_panel():
    panel = ProxySynthesisPanel("toy", epochs=0)  # an invalid run length: the config check fails on Train
    panel.train_button.click()
    assert panel.errors.last is not None
    assert "epochs" in panel.errors.widget.value and "traceback" in panel.errors.widget.value
    assert not panel.train_button.disabled


@pytest.mark.slow
def test_grid_fills_the_heatmap_and_reuses_finished_runs(tmp_path):
    grid = AblationGrid("toy", alphas=(0.4, 2.0), mus=(1.0,), seeds=(0,), epochs=3, directory=tmp_path)
    assert len(grid.cells()) == 3 and grid.progress.max == 3
    records = grid.run()
    assert grid.progress.value == 3 and len(records) == 3 and not grid.failures
    heatmap = [t for t in grid.figure.data if t.type == "heatmap"][0]
    z = np.asarray(heatmap.z, dtype=float)
    assert z.shape == (2, 1) and np.isfinite(z).all()
    by_alpha = {r["alpha"]: r["map@r"] for r in records if r["ps"]}
    assert sorted(100 * np.array(list(by_alpha.values()))) == pytest.approx(sorted(z.ravel()))
    assert "baseline" in grid.figure.layout.title.text
    # a fresh grid with the same folder (a later session) trains nothing
    again = AblationGrid("toy", alphas=(0.4, 2.0), mus=(1.0,), seeds=(0,), epochs=3, directory=tmp_path)
    assert again.run() == records and again.cache.misses == 0


def test_grid_keeps_going_past_a_failing_cell_and_shows_it(monkeypatch):
    grid = AblationGrid("toy", alphas=(0.4, 2.0), mus=(1.0,), seeds=(0,), epochs=2)
    real = grid.cache.record

    def flaky(config, **options):
        if config.ps and config.alpha == 2.0:
            raise RuntimeError("out of memory (simulated)")
        return real(config, **options)

    monkeypatch.setattr(grid.cache, "record", flaky)
    records = grid.run()
    assert len(records) == 2 and len(grid.failures) == 1
    assert "simulated" in grid.errors.widget.value and "α=2" in grid.failure_list.value
    assert grid.progress.value == 3 and "1 failed" in grid.status.value


def test_grid_runs_in_the_background_and_stops_on_request():
    grid = AblationGrid("toy", alphas=(0.4, 1.0, 2.0), mus=(0.5, 1.0), seeds=(0,), epochs=2, cache=RunCache())
    grid.stop_button.disabled = False
    grid.start()
    grid.stop()
    grid.wait(60)
    assert "stopped" in grid.status.value and grid.progress.value < grid.progress.max
    assert not grid.run_button.disabled
    with pytest.raises(ValueError, match="alphas"):
        AblationGrid("toy", alphas=())


def _not_json(figure) -> list[str]:
    """The parts of a FigureWidget's state the browser could not parse (JSON has no NaN), serialized as the comm
    serializes them (arrays become binary buffers)."""
    bad = []
    for name in ("_widget_data", "_widget_layout"):
        try:
            json.dumps(_remove_buffers(figure.get_state(key=name))[0], allow_nan=False)
        except ValueError:
            bad.append(name)
    return bad


@pytest.mark.slow
def test_every_figure_reaches_the_browser_as_json_and_redraws_as_a_fresh_widget():
    """A partial heatmap has NaN cells (and mixing paths NaN breaks): the frontend would drop such a figure.
    A redraw puts a new FigureWidget in the panel's tab (redrawing in place left stale titles in the browser)."""
    panel = ProxySynthesisPanel("toy", epochs=3, umap=False)
    placeholders = panel.figures
    panel.train()
    assert panel.errors.last is None, panel.errors.widget.value
    for name, figure in panel.figures.items():
        assert _not_json(figure) == [], name
        assert panel.slots[name].widget.children == (figure,)
        if name != "umap":  # umap=False leaves its placeholder
            assert figure is not placeholders[name] and placeholders[name].comm is None  # the old one is closed
    assert "not trained yet" not in str(panel.figures["synthetic"].layout)

    grid = AblationGrid("toy", alphas=(0.4, 1.0), mus=(1.0,), epochs=2)
    grid.records = [{"ps": False, "alpha": None, "mu": None, "seed": 0, "map@r": 0.4},
                    {"ps": True, "alpha": 0.4, "mu": 1.0, "seed": 0, "map@r": 0.5}]
    grid._redraw()
    assert _not_json(grid.figure) == []
    assert grid.figure.data[0].z[1][0] is None  # α = 1 has no run yet: an empty cell, not a dropped figure


def test_panel_crosses_the_effect_map_by_seen_classes():
    from psviz.train.presets import TOY_LONG_EPOCHS, toy_budget
    from psviz.train import ConfigError

    panel = ProxySynthesisPanel("toy", umap=False)
    assert "= 10 / 8 = <b>1.25</b>" in panel.rho.value  # the toy default: rho near the paper's 1.28
    panel.seen_classes.value = 24
    configs = panel.configs()
    assert {c.dataset_options["n_classes"] for c in configs.values()} == {48}
    assert {c.epochs for c in configs.values()} == {TOY_LONG_EPOCHS[24]}
    assert "10 / 24" in panel.rho.value and "press <b>Train</b>" in panel.status.value
    panel.mu.value = 1.0
    assert "64 / 24 = <b>2.67</b>" in panel.rho.value
    panel.dataset.value = "digits"
    assert panel.seen_classes.disabled and "/ 5 =" in panel.rho.value
    with pytest.raises(ValueError, match="toy only"):
        panel_config("digits", loss="norm_softmax", ps=True, alpha=0.4, mu=1.0, seed=0, seen_classes=8)
    with pytest.raises(ConfigError, match="seen_classes must be one of 4, 8, 12, 24"):
        toy_budget(5)
