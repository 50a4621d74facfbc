"""The effect map: its design, rule L, rule T, the per-cell statistics with Holm, and the figures' content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psviz.apps.reproduce.effect_map import (LEVELS, LONG, MAX_MU, SHORT, EffectMapPlan, Level, level_cells,
                                             long_epochs, mu_for)
from psviz.apps.reproduce.effect_report import effect_section
from psviz.apps.reproduce.effect_results import effect_table, teaching_level
from psviz.method.synthesis import n_synthetic_for
from psviz.train.records import run_key, run_record
from psviz.viz.effect_map import HELPS, HURTS, NEITHER, effect_forest, effect_heatmaps, heat_grid


def _curve_record(config, values, every=1):
    history = [{"epoch": every * (i + 1), "unseen/map@r": v, "unseen/recall@1": v} for i, v in enumerate(values)]
    return run_record(config, history)


def test_mu_gives_the_intended_number_of_synthetic_classes():
    for level in LEVELS:
        for rho in (0.25, 1.3, 4, 16):
            mu = mu_for(rho, level)
            if mu is None:
                assert max(1, round(rho * level.classes)) > MAX_MU * level.batch_size
            else:
                assert n_synthetic_for(mu, level.batch_size) == max(1, round(rho * level.classes))


def test_the_design_has_the_registered_cells():
    cells = EffectMapPlan().cells()
    assert len(cells) == 47
    glyphs_full = [c for c in cells if c.level.name == "glyphs-1418" and c.length == LONG and c.loss == "norm_softmax"]
    assert sorted(round(c.achieved_rho, 2) for c in glyphs_full) == [0.09, 0.25, 1.3]
    assert {c.loss for c in cells} == {"norm_softmax", "cosface", "proxy_anchor"}
    assert sum(c.length == SHORT for c in cells) == len(LEVELS)


def test_the_arms_differ_only_in_ps_and_mu():
    plan = EffectMapPlan()
    for cell in plan.cells()[:7]:
        base, ps = plan.cell_configs(cell, 40, 3)
        differing = {k for k, v in base.to_dict().items() if ps.to_dict()[k] != v}
        assert differing <= {"ps", "mu"} and ps.ps and not base.ps
        assert base.epochs == (40 if cell.length == LONG else 10)


def test_one_baseline_serves_every_rho_of_a_level():
    plan = EffectMapPlan()
    core = [c for c in level_cells(LEVELS[0]) if c.loss == "norm_softmax" and c.length == LONG]
    keys = {run_key(plan.cell_configs(c, 30, 0)[0]) for c in core}
    assert len(core) == 4 and len(keys) == 1


def test_rule_l_finds_where_the_baseline_stops_rising():
    plan = EffectMapPlan.tiny()
    level = plan.levels[0]
    rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6]
    records = [_curve_record(plan.pilot_config(level, s), np.add(rising, 0.001 * s)) for s in level.pilot_seeds]
    # smoothed over 3: centres 2..9; means reach 0.6 - 0.005 first at centre 7 (0.6, 0.6, 0.6 around epoch 7)
    assert long_epochs(records) == 7
    peaked = [0.1, 0.3, 0.5, 0.5, 0.4, 0.3, 0.2, 0.1]
    records = [_curve_record(plan.pilot_config(level, s), peaked) for s in level.pilot_seeds]
    # smoothed: 0.3, 0.433, 0.467, 0.4, ... at centres 2, 3, 4, 5: the peak window is centred on epoch 4
    assert long_epochs(records) == 4
    with pytest.raises(ValueError, match="baseline alone"):
        long_epochs([_curve_record(plan.pilot_config(level, 0).replace(ps=True), peaked)])


def _store(plan, lengths, value):
    """A dict store with every map run: ``value(cell, seed, ps)`` gives its MAP@R."""
    found = {}
    for cell in plan.cells():
        for seed in cell.level.seeds:
            for config in plan.cell_configs(cell, lengths[cell.level.name], seed):
                found[run_key(config)] = _curve_record(config, [value(cell, seed, config.ps)])
    return lambda config: found.get(run_key(config))


def test_effect_table_pairs_by_seed_and_applies_holm():
    plan = EffectMapPlan.tiny()
    lengths = {level.name: 4 for level in plan.levels}

    def value(cell, seed, ps):  # PS +5 points with seed noise at toy-4 ρ 16, otherwise noise only
        big = cell.level.classes == 4 and cell.rho == 16
        return 0.5 + 0.01 * seed + (0.05 + 0.001 * seed if ps and big else (0.002 * (-1) ** seed if ps else 0))

    table = effect_table(plan, _store(plan, lengths, value), lengths)
    assert len(table) == 14 and table["complete"].all()
    hit = table[(table["classes"] == 4) & (table["rho"] == 16)].iloc[0]
    assert hit["diff"] == pytest.approx(0.0505)
    assert hit["n"] == 2 and hit["sign_flip_p"] == pytest.approx(0.5)  # 2 seeds: never below 2/4
    assert (table["holm_p"] >= table["p"] - 1e-12).all() and (table["holm_p"] <= 1).all()
    smallest = table["p"].idxmin()
    assert table.loc[smallest, "holm_p"] == pytest.approx(min(1, 14 * table.loc[smallest, "p"]))


def test_rule_t_reads_the_baseline_only_and_picks_the_smallest_level_in_range():
    plan = EffectMapPlan(levels=tuple(Level("toy", c, 64, (0, 1, 2), (0,), 6, 1) for c in (4, 8, 12)))
    lengths = {level.name: 4 for level in plan.levels}
    means = {4: 0.95, 8: 0.70, 12: 0.55}

    def value(cell, seed, ps):
        return 0.0 if ps else means[cell.level.classes] + 0.01 * seed  # PS's result must not matter

    level, table, why = teaching_level(plan, _store(plan, lengths, value), lengths)
    assert level.classes == 8 and why == "in range"
    assert table.set_index("classes").loc[4, "qualifies"] == False  # noqa: E712 (a numpy bool)
    means.update({8: 0.95, 12: 0.30})
    level, _, why = teaching_level(plan, _store(plan, lengths, value), lengths)
    assert (level.classes, why) == (12, "closest to target")
    incomplete = teaching_level(plan, lambda config: None, lengths)
    assert incomplete[0] is None and incomplete[2] == "incomplete"


def _table():
    plan = EffectMapPlan.tiny()
    lengths = {level.name: 4 for level in plan.levels}

    def value(cell, seed, ps):
        if cell.level.classes == 8 and cell.rho == 0.25:
            return 0.5 - (0.1 + 0.0001 * seed if ps else 0)
        return 0.5 + (0.2 + 0.0001 * seed if ps and cell.loss == "cosface" else 0.003 * seed if ps else 0)

    return effect_table(plan, _store(plan, lengths, value), lengths).assign(
        holm_significant=lambda t: (t["diff"].abs() > 0.05))  # two seeds cannot reach Holm: mark by hand


def test_forest_draws_one_row_per_cell_coloured_by_verdict():
    table = _table()
    fig = effect_forest(table)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == len(table)
    markers = [line for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata())]
    colours = [line.get_color() for line in markers]
    assert colours.count(HELPS) == 2 and colours.count(HURTS) == 1
    assert colours.count(NEITHER) == len(table) - 3
    xs = sorted(float(line.get_xdata()[0]) for line in markers)
    assert xs[0] == pytest.approx(-10.005) and xs[-1] == pytest.approx(20.005)


def test_heatmap_grid_holds_the_core_cells():
    table = _table()
    diff, flag, rho = heat_grid(table, "toy")
    assert list(diff.index) == [4, 8] and list(diff.columns) == ["0.25", "1.3", "4", "16"]
    assert diff.loc[8, "0.25"] == pytest.approx(-0.10005) and bool(flag.loc[8, "0.25"])
    assert rho.loc[4, "1.3"] == pytest.approx(1.25)
    fig = effect_heatmaps(table)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "-10.0✱\nρ 0.25" in texts and len(texts) == 8


def test_figures_refuse_bad_tables():
    with pytest.raises(ValueError, match="columns"):
        effect_forest(_table().drop(columns="diff"))
    with pytest.raises(ValueError, match="DataFrame"):
        effect_heatmaps([{"diff": 1}])


def test_the_section_is_written_from_stored_records(tmp_path: Path):
    plan = EffectMapPlan.tiny()
    lengths = {level.name: 4 for level in plan.levels}
    read = _store(plan, lengths, lambda cell, seed, ps: 0.6 + 0.01 * seed - (0.02 if ps else 0))
    plan.lengths.update(lengths)
    lines, figures = effect_section(plan, read, doc=tmp_path / "R.md", images=tmp_path / "img", command="psviz x")
    text = "\n".join(lines)
    assert "## When PS helps" in text and "Chosen: **toy-8** (in range)" not in text
    assert "Of 14 complete cells" in text and all(p.is_file() for p in figures.values())
    assert "-2.00 [-2.00, -2.00]" in text
    empty, none = effect_section(plan, lambda c: None, doc=tmp_path / "R.md", images=tmp_path / "i2", command="x")
    assert "No cell has both arms stored yet." in "\n".join(empty) and none == {}


# ---- the committed records: the toy's defaults follow the rules ---------------------------------------------------

RUNS = Path(__file__).resolve().parents[1] / "results" / "small" / "runs"


def _committed():
    from psviz.train.records import RecordStore

    return RecordStore(RUNS).read


def test_toy_lengths_are_rule_l_on_the_committed_pilot():
    from psviz.train.presets import TOY_LONG_EPOCHS

    plan = EffectMapPlan()
    lengths = plan.long_lengths(_committed())
    toys = {level.classes: lengths.get(level.name) for level in plan.levels if level.dataset == "toy"}
    assert toys == TOY_LONG_EPOCHS


def test_toy_default_is_rule_t_on_the_committed_baselines():
    from psviz.train.presets import TOY_SEEN_CLASSES, preset

    plan = EffectMapPlan()
    read = _committed()
    level, table, why = teaching_level(plan, read, plan.long_lengths(read))
    if level is None:
        pytest.skip(f"the toy baselines are not all stored yet ({why})")
    assert level.classes == TOY_SEEN_CLASSES
    toy = preset("toy")
    assert toy.dataset_options == {"n_classes": 2 * TOY_SEEN_CLASSES, "dim": 3}
    assert n_synthetic_for(toy.mu, toy.batch_size) / TOY_SEEN_CLASSES == pytest.approx(1.3, abs=0.1)


@pytest.mark.slow
def test_psviz_reproduce_trains_the_studies_and_writes_their_sections(tmp_path, capsys):
    """`psviz reproduce --tiny --parts <the studies>`: pilots, rules L and P, both arms, and the two report sections;
    the same command again trains nothing."""
    pytest.importorskip("timm", reason="the pretrained extra is not installed")
    from psviz.apps.cli import main

    args = ["reproduce", "--tiny", "--parts", "effect-pilot,effect-map,pretrained-pilot,pretrained",
            "--results-dir", str(tmp_path / "small"), "--doc", str(tmp_path / "RESULTS.md"),
            "--images", str(tmp_path / "images"), "--workers", "2", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "effect map: long lengths by rule L {'toy-4':" in out and "pretrained: rule P chose lr" in out
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## When PS helps: a pre-registered effect map" in text and "Of 14 complete cells" in text
    assert "## The paper's protocol, in miniature" in text and "Rule P (baseline pilot only) chose" in text
    assert (tmp_path / "images" / "effect_map_forest.png").stat().st_size > 10_000
    assert (tmp_path / "images" / "effect_map_heatmap.png").stat().st_size > 10_000
    assert main(args) == 0
    assert "runs: 0 trained" in capsys.readouterr().out


def test_holm_counts_cells_not_run_yet_and_the_region_rule_needs_neighbours():
    from psviz.apps.reproduce.effect_report import regions
    from psviz.apps.reproduce.effect_results import with_holm

    rows = [{"dataset": "toy", "classes": c, "level": f"toy-{c}", "loss": "norm_softmax", "length": "long",
             "rho": rho, "diff": diff, "p": p, "sign_flip_p": p, "n": 10, "planned": 10}
            for c, rho, diff, p in [(4, 0.25, -0.1, 0.001), (4, 4, -0.1, 0.001), (8, 1.3, -0.1, 0.001),
                                    (12, 1.3, -0.1, 0.001), (12, 16, 0.1, 0.2)]]
    table = with_holm(pd.DataFrame(rows), family_size=10)
    assert table["holm_p"].iloc[0] == pytest.approx(0.01)  # 10 tests in the family, 5 of them not run yet
    assert with_holm(pd.DataFrame(rows))["holm_p"].iloc[0] == pytest.approx(0.005)
    # toy-4's significant cells sit at ρ 0.25 and 4, which are not neighbours; C 8 and 12 at ρ 1.3 are
    assert regions(table, -1) == ["toy at C 8 and 12 (ρ 1.3)"]
    assert regions(table, +1) == []


def test_the_figures_show_themselves_as_png_in_a_notebook():
    png = effect_forest(_table())._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
