"""The "When PS helps" section of docs/RESULTS.md: the effect map's lengths, teaching default, forest plot, heatmaps,
one paragraph on what the map shows, and the table of cells, all from stored records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...base.percent import percent
from . import markdown as md
from .effect_map import EffectMapPlan, short_epochs
from .effect_results import PRIMARY, SECONDARY, effect_table, teaching_level
from .figures import write_effect_figures

PLAN_DOC = "docs/PREREGISTRATION.md"


def lengths_table(plan: EffectMapPlan, lengths: dict[str, int]) -> str:
    rows = [{"level": level.name, "seen classes C": level.classes,
             "pilot": f"{level.pilot_epochs} epochs, every {level.pilot_eval_every}, seeds {len(level.pilot_seeds)}",
             "long (rule L)": lengths.get(level.name, "–"),
             "short": short_epochs(lengths[level.name]) if level.name in lengths else "–"}
            for level in plan.levels]
    return md.to_markdown(pd.DataFrame(rows))


def cells_table(table: pd.DataFrame) -> str:
    """Every cell: arm means, Δ with its interval, t p, Holm p, sign-flip p, seeds (values in points)."""
    rows = [{"level": r["level"], "loss": r["loss"], "length": f"{r['length']} ({r['epochs']} ep)",
             "ρ (μ)": f"{r['achieved_rho']:.3g} ({r['mu']:.3g})", "baseline": f"{percent(r['baseline_mean']):.2f}",
             "PS": f"{percent(r['ps_mean']):.2f}",
             "Δ [95% CI]": md.difference(percent(r["diff"]), percent(r["ci_low"]), percent(r["ci_high"]), False),
             "p": f"{r['p']:.3g}", "Holm p": f"{r['holm_p']:.3g}" + (" ✱" if r["holm_significant"] else ""),
             "sign-flip p": f"{r['sign_flip_p']:.3g}", "seeds": f"{r['n']}/{r['planned']}"}
            for _, r in table.iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def _adjacent_pairs(hits: pd.DataFrame, levels: list, key: str) -> list[tuple]:
    """Pairs of ``hits`` rows whose ``key`` values are neighbours in ``levels``."""
    found = set(hits[key])
    return [(a, b) for a, b in zip(levels, levels[1:]) if a in found and b in found]


def regions(table: pd.DataFrame, sign: int, plan_rhos=None) -> list[str]:
    """The pre-registered region rule: two Holm-significant cells of ``sign`` in one dataset at neighbouring ρ levels
    (the core grid: Norm-SoftMax, long, same C) or at neighbouring C levels (the paper's ρ, Norm-SoftMax, long)."""
    from ...base.paper import PAPER_RHO
    from .effect_map import RHO_LEVELS

    hits = table[table["holm_significant"] & (np.sign(table["diff"]) == sign)
                 & (table["loss"] == "norm_softmax") & (table["length"] == "long")]
    found = []
    for level, group in hits.groupby("level", sort=False):
        found += [f"{level} at ρ {a:g} and {b:g}" for a, b in _adjacent_pairs(group, list(RHO_LEVELS), "rho")]
    for dataset, group in hits[hits["rho"] == PAPER_RHO].groupby("dataset", sort=False):
        levels = sorted(table.loc[table["dataset"] == dataset, "classes"].unique())
        found += [f"{dataset} at C {a} and {b} (ρ {PAPER_RHO:g})" for a, b in _adjacent_pairs(group, levels, "classes")]
    return found


def summary_paragraph(table: pd.DataFrame, secondary: pd.DataFrame) -> str:
    """What the map shows, in numbers, whichever way it goes."""
    done = table[table["complete"]]
    up = done[done["holm_significant"] & (done["diff"] > 0)]
    down = done[done["holm_significant"] & (done["diff"] < 0)]
    disagree = done[~done["tests_agree"]]
    text = [f"Of {len(done)} complete cells, PS is Holm-significantly ahead on unseen MAP@R in {len(up)} and behind "
            f"in {len(down)} (Holm over the whole pre-registered family, cells not yet run counted as p = 1); "
            f"{len(done) - len(up) - len(down)} show no difference detectable at this power."]
    for name, cells in (("ahead", up), ("behind", down)):
        if len(cells):
            text.append(f"PS is {name} at " + "; ".join(
                f"{r['level']} {r['loss']} {r['length']} ρ {r['achieved_rho']:.2g} ({percent(r['diff']):+.2f})"
                for _, r in cells.iterrows()) + ".")
    for sign, word in ((1, "helps"), (-1, "hurts")):
        found = regions(done, sign)
        text.append(f"A region where PS {word} (two Holm-significant cells at neighbouring levels): "
                    + ("; ".join(found) if found else "none found") + ".")
    if len(disagree):
        names = disagree["level"] + " " + disagree["loss"] + " ρ " + disagree["achieved_rho"].map("{:.3g}".format)
        cells = f"{len(disagree)} cell" + ("" if len(disagree) == 1 else "s")
        text.append(f"Unadjusted, the t-test and the exact sign-flip test disagree at 0.05 in {cells} "
                    f"({', '.join(names)}); with 5 seeds the sign-flip p cannot go below 0.0625, with 10 below 0.002.")
    if len(secondary):
        sec = secondary[secondary["complete"]]
        text.append(f"On Recall@1 (secondary, its own Holm family): {int((sec['holm_significant'] & (sec['diff'] > 0)).sum())}"
                    f" cells ahead, {int((sec['holm_significant'] & (sec['diff'] < 0)).sum())} behind.")
    return " ".join(text)


def _trends(table: pd.DataFrame) -> str:
    """Exploratory: the sign of the least-squares slope of Δ against log2 ρ per level (core cells, nominal ρ)."""
    lines = []
    for level, group in table[(table["loss"] == "norm_softmax") & (table["length"] == "long")
                              & table["rho"].notna()].groupby("level", sort=False):
        if len(group) >= 3:
            slope = np.polyfit(np.log2(group["achieved_rho"]), percent(group["diff"]), 1)[0]
            lines.append(f"{level} {slope:+.2f}")
    return ("Exploratory, not a test: the slope of Δ (points) per doubling of ρ on the core grid: " + ", ".join(lines)
            + ".") if lines else ""


def _teaching(plan: EffectMapPlan, read, lengths: dict) -> list[str]:
    level, table, why = teaching_level(plan, read, lengths)
    out = ["### The teaching default (rule T, baseline only)", ""]
    if len(table):
        shown = table.assign(mean=percent(table["mean"]), std=percent(table["std"]))
        out += [md.to_markdown(shown.round(2)), ""]
    out.append("Not chosen yet: the toy baselines are incomplete." if level is None else
               f"Chosen: **{level.name}** ({why}); the toy preset and the panel start from it.")
    return out + [""]


def effect_section(plan: EffectMapPlan, read, *, doc: Path, images: Path, command: str) -> tuple[list[str], dict]:
    """The section's Markdown lines and the figures it wrote ({name: path})."""
    lengths = plan.long_lengths(read)
    out = ["## When PS helps: a pre-registered effect map", "",
           f"The plan, its factors, test and rules were committed in `{PLAN_DOC}` before any of these runs. Written by "
           f"`{command}` from the stored records; `psviz reproduce --parts effect-pilot,effect-map` trains what is "
           "missing and skips what is stored.", "", "### Lengths (rule L, baseline pilot only)", "",
           lengths_table(plan, lengths), ""]
    out += _teaching(plan, read, lengths)
    table = effect_table(plan, read, lengths, PRIMARY)
    if table.empty:
        return out + ["No cell has both arms stored yet.", ""], {}
    secondary = effect_table(plan, read, lengths, SECONDARY)
    figures = write_effect_figures(table, images)
    missing = sum(len(c.level.seeds) for c in plan.cells() if c.level.name in lengths) - int(table["n"].sum())
    out += ["### What the map shows", "", summary_paragraph(table, secondary), "", _trends(table), "",
            f"Cells: {len(table)} of {len(plan.cells())} planned have runs; {missing} planned pairs are still missing.",
            "", f"![forest plot of the effect map]({md.relative_link(figures['effect_forest'], doc)})", "",
            f"![heatmap of the effect map]({md.relative_link(figures['effect_heatmap'], doc)})", "",
            "<details><summary>Every cell (unseen MAP@R, points)</summary>", "", cells_table(table), "", "</details>",
            ""]
    return out, figures


__all__ = ["cells_table", "effect_section", "lengths_table", "regions", "summary_paragraph"]
