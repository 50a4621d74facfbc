"""The README is a front page: short, undated, its links resolve, and every number it states about the demo is the one
the stored records give (so it cannot drift from what a fresh clone prints)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _signed(text: str) -> float:
    return float(text.replace("−", "-"))


def test_the_readme_is_a_short_undated_front_page():
    assert len(README.splitlines()) <= 150
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", README)
    assert not re.search(r"\b(January|February|March|April|May|June|July|August|September|October|November|"
                         r"December) 20\d\d\b", README)


def test_every_relative_link_in_the_readme_resolves():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert local, "the README links nothing in the repository"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing


def test_the_readme_demo_table_is_the_stored_effect_map_cell():
    from psviz.analysis import paired_rows
    from psviz.apps.reproduce.stored import STORED_RUNS, toy_cell
    from psviz.train.records import RecordStore

    plan, cell, long = toy_cell()
    read = RecordStore(STORED_RUNS).read
    pairs = [tuple(read(c)["metrics"] for c in plan.cell_configs(cell, long, seed)) for seed in cell.level.seeds]
    stored = {row["metric"]: row for row in paired_rows(pairs, "toy")}
    names = {"Recall@1": "recall@1", "R-Precision": "r_precision", "MAP@R": "map@r"}
    number = r"([+−-]?\d+\.\d\d)"
    for label, metric in names.items():
        found = re.search(rf"\| {re.escape(label)} \| {number} \| {number} \| {number} \[{number}, {number}\] \|",
                          README)
        assert found, f"no demo table row for {label}"
        row = stored[metric]
        expected = [row["baseline"], row["with PS"], row["difference"], row["ci_low"], row["ci_high"]]
        assert [_signed(v) for v in found.groups()] == pytest.approx(expected, abs=0.006)


def test_the_readme_glyphs_interval_is_the_stored_one():
    from psviz.apps.reproduce.stored import stored_glyphs_rows

    rows = {row["metric"]: row for row in stored_glyphs_rows()}
    m, r1 = rows["map@r"], rows["recall@1"]
    assert f"+{m['difference']:.2f} points [+{m['ci_low']:.2f}, +{m['ci_high']:.2f}]" in README
    assert f"{r1['difference']:+.2f} [{r1['ci_low']:+.2f}, {r1['ci_high']:+.2f}]".replace("-", "−") in README


def test_the_readme_says_what_holm_says_of_the_cell():
    from psviz.apps.reproduce.stored import stored_toy_line

    line = stored_toy_line()
    assert "not significant at 0.05" in line  # the stored cell, over the whole pre-registered family
    assert "the difference is not significant" in README


def test_the_readme_pretrained_differences_are_the_stored_ones():
    from psviz.apps.reproduce.effect_results import PRIMARY
    from psviz.apps.reproduce.plan import Plan
    from psviz.apps.reproduce.pretrained import IMAGENET
    from psviz.apps.reproduce.pretrained_report import cell_rows
    from psviz.apps.reproduce.stored import STORED_RUNS
    from psviz.base.paper import table6
    from psviz.base.percent import percent
    from psviz.train.records import RecordStore

    plan, read = Plan().pretrained, RecordStore(STORED_RUNS).read
    table = cell_rows(plan, read, plan.choose(read), PRIMARY)
    paper = table6()
    assert (paper["difference"] > 0).all() and paper["loss"].nunique() == 8  # "ahead ... for all eight losses"
    for loss, label in (("norm_softmax", "Norm-SoftMax"), ("proxy_anchor", "Proxy-Anchor")):
        row = table[(table["start"] == IMAGENET) & (table["loss"] == loss)].iloc[0]
        assert row["n"] == 5 and not row["holm_significant"]  # "5 seeds", "neither is significant after Holm"
        said = f"{percent(row['diff']):+.2f} [{percent(row['ci_low']):+.2f}, {percent(row['ci_high']):+.2f}]"
        assert f"{said.replace('-', '−')}" in README and f"with {label}" in README
        cub = paper[(paper["loss"] == loss) & (paper["dataset"] == "cub200")]["difference"].iloc[0]
        assert f"{cub:+.1f} for {label}" in README


def test_the_effect_map_caption_says_what_the_stored_cells_say():
    from psviz.apps.reproduce.effect_map import EffectMapPlan
    from psviz.apps.reproduce.stored import stored_effect_table

    table = stored_effect_table()
    assert len(EffectMapPlan().cells()) == 47 and len(table) == 47 and "over all 47" in README
    heat = table[(table["loss"] == "norm_softmax") & (table["length"] == "long")]  # what the heatmaps show
    toy, glyphs = heat[heat["dataset"] == "toy"], heat[heat["dataset"] == "glyphs"]
    assert toy["holm_significant"].any() and (toy[toy["holm_significant"]]["diff"] < 0).all()
    assert "PS is behind in every significant cell" in README
    assert sorted(set(glyphs["classes"])) == [50, 200, 1418] and (glyphs["diff"] > 0).all()
    assert (len(glyphs), int(glyphs["holm_significant"].sum())) == (10, 7)
    assert "it is ahead in every cell, significantly in seven of ten" in README
    paper_rho = table[(table["dataset"] == "glyphs") & (table["rho"] == 1.3) & table["holm_significant"]]
    ahead = paper_rho[(paper_rho["loss"] == "cosface") & (paper_rho["diff"] > 0)]["classes"]
    behind = paper_rho[(paper_rho["loss"] == "proxy_anchor") & (paper_rho["diff"] < 0)]["classes"]
    assert sorted(ahead) == [200, 1418] and sorted(behind) == [50, 1418]
    assert ("CosFace is significantly ahead at 200 and 1,418 classes, and Proxy-Anchor significantly behind at 50 "
            "and 1,418") in " ".join(README.split())
