"""The regime part of docs/RESULTS.md: the sweep and its verdicts, the chosen regime's ≥ 5-seed comparison, the
mechanism measures of both arms, and the gap figure."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..names import ARMS, BASELINE, DATASET_TITLES, PERCENT_MEASURES, TABLE_METRIC_NAMES, WITH_PS, column
from ..train.mechanism import MEASURE_NAMES
from . import markdown as md
from .regime import MAX_SEED_STD, MIN_DROP, MIN_GAP_GROWTH, WINDOW, Candidate, RegimePlan, Verdict, select
from .stats import compare, curve_summary, curves_frame, in_percent, paired_difference, runs_frame, spread


@dataclass
class Arms:
    """Both arms of one candidate over the regime seeds: run records, the comparison and the measures' table."""

    candidate: Candidate
    records: dict  # BASELINE / WITH_PS -> list of records (seed order)
    comparison: pd.DataFrame
    measures: pd.DataFrame
    curve: pd.DataFrame  # unseen MAP@R per evaluated epoch: each arm's mean and std, the paired difference
    gap: dict  # the held-out-seen - unseen MAP@R gap at the end: each arm's (mean, std), the paired difference
    missing: int = 0


@dataclass
class RegimeResults:
    """What the stored sweep and regime runs say, per dataset."""

    selection: dict  # dataset -> psviz.reproduce.regime.Selection
    chosen: dict = field(default_factory=dict)  # dataset -> Arms at the chosen candidate
    explained: dict = field(default_factory=dict)  # dataset -> Arms at each explained candidate
    planned: int = 0
    stored: int = 0


def measures_frame(records: dict) -> pd.DataFrame:
    """Per measure (in its own unit, shares as fractions): each arm's mean ± sample std over seeds and the paired
    PS − baseline difference."""
    by_seed = {arm: {r["config"]["seed"]: r.get("measures", {}) for r in rs} for arm, rs in records.items()}
    seeds = sorted(set(by_seed.get(BASELINE, {})) & set(by_seed.get(WITH_PS, {})))
    rows = []
    for key in MEASURE_NAMES:
        values = {arm: np.array([by_seed[arm][s][key] for s in seeds if key in by_seed[arm][s]], float)
                  for arm, _ in ARMS}
        base, ps = values[BASELINE], values[WITH_PS]
        if not len(base) or len(base) != len(ps):
            continue
        row = {"key": key, "n": len(base)}
        for arm, _ in ARMS:
            row.update({column(arm, k): v for k, v in spread(values[arm]).items() if k != "n"})
        rows.append({**row, **paired_difference(base, ps)})
    return pd.DataFrame(rows)


def _arms(plan: RegimePlan, dataset: str, candidate: Candidate, read) -> Arms:
    """Both arms of ``candidate`` over the regime seeds, read through ``read``, with every table computed from them."""
    records, missing = {arm: [] for arm, _ in ARMS}, 0
    for seed in plan.regime_seeds[dataset]:
        for arm, ps in ARMS:
            record = read(plan.config(candidate, ps, seed))
            if record is None:
                missing += 1
            else:
                records[arm].append(record)
    both = records[BASELINE] + records[WITH_PS]
    frame, curves = runs_frame(both), curves_frame(both)
    comparison = compare(frame, by=("dataset",)) if len(frame) else pd.DataFrame()
    curve = curve_summary(curves) if len(curves) else pd.DataFrame()
    return Arms(candidate, records, comparison, measures_frame(records), curve, final_gap(records), missing)


def final_gap(records: dict) -> dict:
    """Held-out-seen minus unseen MAP@R (a fraction) at each run's last evaluation, per arm, paired by seed."""
    def gap(record):
        row = next((r for r in reversed(record["history"]) if "heldout/map@r" in r and "unseen/map@r" in r), None)
        return None if row is None else row["heldout/map@r"] - row["unseen/map@r"]
    by_seed = {arm: {r["config"]["seed"]: gap(r) for r in rs} for arm, rs in records.items()}
    seeds = sorted(s for s in set(by_seed[BASELINE]) & set(by_seed[WITH_PS])
                   if by_seed[BASELINE][s] is not None and by_seed[WITH_PS][s] is not None)
    if not seeds:
        return {}
    gaps = {arm: np.array([by_seed[arm][s] for s in seeds]) for arm, _ in ARMS}
    spreads = {arm: spread(values) for arm, values in gaps.items()}
    return {**{arm: (found["mean"], found["std"]) for arm, found in spreads.items()},
            **paired_difference(gaps[BASELINE], gaps[WITH_PS])}


def collect_regime(plan: RegimePlan, read) -> RegimeResults:
    """Read the sweep and regime runs through ``read(config)`` (a `RecordStore`'s read) and compute every table."""
    selection = select(plan, read)
    results = RegimeResults(selection)
    for dataset, chosen in selection.items():
        if chosen.chosen is not None:
            results.chosen[dataset] = _arms(plan, dataset, chosen.chosen, read)
    for dataset, candidate in plan.explain:
        if dataset in plan.candidates and (dataset not in results.chosen or
                                           results.chosen[dataset].candidate.name != candidate.name):
            results.explained[dataset] = _arms(plan, dataset, candidate, read)
    jobs = plan.sweep_jobs() + plan.regime_jobs({d: c.chosen for d, c in selection.items()})
    keys = {}
    for job in jobs:
        keys.setdefault(repr(sorted(job.config.to_dict().items(), key=str)), job.config)
    results.planned = len(keys)
    results.stored = sum(read(config) is not None for config in keys.values())
    return results


# ---- figures ---------------------------------------------------------------------------------------------------------

def write_regime_figures(results: RegimeResults, images: str | Path) -> dict[str, Path]:
    """docs/images/regime_<dataset>_gap.png for each chosen regime with both arms stored."""
    from ..viz import generalisation_gap, save_figure

    written = {}
    for dataset, arms in results.chosen.items():
        if not arms.records[BASELINE] or not arms.records[WITH_PS]:
            continue
        runs = {arm: [r["history"] for r in records] for arm, records in arms.records.items()}
        fig = generalisation_gap(runs, backend="matplotlib",
                                 title=f"{DATASET_TITLES.get(dataset, dataset)}, regime '{arms.candidate.name}': "
                                       f"held-out seen vs unseen MAP@R")
        written[dataset] = save_figure(fig, Path(images) / f"regime_{dataset}_gap.png")
    return written


# ---- Markdown --------------------------------------------------------------------------------------------------------

def _verdict_rows(verdicts: list[Verdict], candidates, chosen: Candidate | None, why: str) -> str:
    notes = {c.name: c.note for c in candidates}
    rows = []
    for v in verdicts:
        rows.append({"candidate": v.candidate, "what changes": notes.get(v.candidate, ""), "seeds": v.n_seeds,
                     "peak (epoch)": f"{100 * v.peak:.2f} ({v.peak_epoch})",
                     "end (epoch)": f"{100 * v.last:.2f} ({v.last_epoch})",
                     "drop ± SE": f"{100 * v.drop:+.2f} ± {100 * v.drop_se:.2f}",
                     "gap at peak → end": f"{100 * v.gap_at_peak:.2f} → {100 * v.gap_at_end:.2f}",
                     "gap growth ± SE": f"{100 * v.gap_growth:+.2f} ± {100 * v.gap_growth_se:.2f}",
                     "end std": f"{100 * v.end_std:.2f}",
                     "overfits": ("yes" if v.overfits else "no: " + "; ".join(v.reasons))
                     + (f" **(chosen: {'overfits' if why == 'overfits' else 'first reproducible'})**"
                        if chosen is not None and v.candidate == chosen.name else "")})
    return md.to_markdown(pd.DataFrame(rows))


def _metric_name(metric: str) -> str:
    """The table header's short name of a metric ("MAP@R"), or the key itself for any other."""
    return TABLE_METRIC_NAMES.get(metric, metric)


def comparison_table(comparison: pd.DataFrame) -> str:
    """The regime's comparison (`psviz.reproduce.stats.compare`, fractions) as a table in percent."""
    rows = [{"metric": _metric_name(r["metric"]), "seeds": int(r["n"]),
             **md.arm_cells(r, BASELINE, WITH_PS, "Δ PS − baseline [95% CI]")}
            for _, r in in_percent(comparison).iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def measures_table(measures: pd.DataFrame) -> str:
    """`measures_frame` as a table: each measure in its own unit, shares in percent."""
    shares = measures["key"].isin(PERCENT_MEASURES)
    shown = pd.concat([in_percent(measures[shares]), measures[~shares]]).sort_index()
    rows = [{"measure": MEASURE_NAMES[r["key"]] + (", %" if r["key"] in PERCENT_MEASURES else ""),
             **md.arm_cells(r, BASELINE, WITH_PS)} for _, r in shown.iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def _said(comparison: pd.DataFrame) -> str:
    """One line per metric, saying which way PS went and whether the interval excludes 0."""
    lines = []
    for _, r in in_percent(comparison).iterrows():
        if np.isnan(r["diff"]):
            continue
        way = "higher" if r["diff"] > 0 else "lower"
        sure = "the 95% interval excludes 0" if r["significant"] else "the 95% interval includes 0"
        lines.append(f"{_metric_name(r['metric'])} {way} with PS by {abs(r['diff']):.2f} points ({sure})")
    return "; ".join(lines) + "." if lines else ""


def _curve_lines(curve: pd.DataFrame) -> str:
    c = in_percent(curve).set_index("epoch")
    base, ps = c[column(BASELINE, "mean")], c[column(WITH_PS, "mean")]
    peak, last = int(base.idxmax()), int(c.index.max())
    ahead = int((curve["diff"] > 0).sum())
    parts = [f"the baseline's mean unseen MAP@R peaked at epoch {peak} ({base[peak]:.2f}) and ended at "
             f"{base[last]:.2f}; PS's peaked at epoch {int(ps.idxmax())} ({ps.max():.2f}) and ended at {ps[last]:.2f}"]
    for label, epoch in (("at the baseline's peak", peak), ("at the end", last)):
        parts.append(f"PS − baseline {label} (epoch {epoch}): {md.paired_cell(c.loc[epoch])} points")
    parts.append(f"PS was ahead at {ahead} of {len(curve)} evaluations")
    return "Per epoch: " + "; ".join(parts) + "."


def _gap_line(gap: dict) -> str:
    """The end-of-training gap of both arms and their paired difference, in points."""
    shown = {arm: md.mean_std(*(100 * value for value in gap[arm])) for arm, _ in ARMS}
    delta = md.paired_cell({**gap, **{k: 100 * gap[k] for k in ("diff", "ci_low", "ci_high")}})
    return (f"Held-out-seen − unseen MAP@R gap at the end: baseline {shown[BASELINE]}, with PS {shown[WITH_PS]}, "
            f"Δ {delta} points.")


def _config_line(plan: RegimePlan, candidate: Candidate) -> str:
    c = plan.config(candidate, False, 0)
    model = c.model + (f" {c.model_options['hidden']}" if "hidden" in c.model_options else "")
    extra = ", ".join(f"{k} = {getattr(c, k)}" for k in ("train_per_class", "train_classes")
                      if getattr(c, k) is not None)
    data = f"{c.dataset}" + (f" {c.dataset_options}" if c.dataset_options else "")
    return (f"{data}, {model}, {c.embedding_dim}-d, {c.loss}, batch {c.batch_size}, lr {c.lr:g}, {c.epochs} epochs "
            f"(evaluated every {c.eval_every}), {c.holdout_per_class} held-out items per seen class"
            + (f", {extra}" if extra else ""))


def _arms_section(plan: RegimePlan, dataset: str, arms: Arms, doc: Path, figure: Path | None) -> list[str]:
    n = len(arms.records[WITH_PS])
    out = [f"Setting: {_config_line(plan, arms.candidate)}; PS with α = 0.4, μ = 1.", ""]
    if arms.missing:
        out += [f"**INCOMPLETE: {arms.missing} of {2 * len(plan.regime_seeds[dataset])} runs are not stored yet.**", ""]
    if len(arms.comparison):
        seconds = [r.get("seconds", np.nan) for rs in arms.records.values() for r in rs]
        out += [f"Unseen classes at the end of training, {n} seeds per arm (mean ± sample std; Δ paired by seed, "
                f"`*` for p < 0.05). {_said(arms.comparison)}", "", comparison_table(arms.comparison), "",
                f"Training and evaluation took {np.nanmean(seconds):.0f} s a run on average in the reproduction's "
                f"one-thread workers.", ""]
    if arms.gap:
        out += [_gap_line(arms.gap), ""]
    if len(arms.curve):
        out += [_curve_lines(arms.curve), "", "<details><summary>Unseen MAP@R (%) at every evaluated epoch"
                "</summary>", "", md.curve_table(in_percent(arms.curve)), "", "</details>", ""]
    if len(arms.measures):
        out += ["Mechanism measures at the end of training (`psviz.train.mechanism_measures`; for the baseline, the "
                "synthetic points are those PS would make from its embeddings):", "", measures_table(arms.measures),
                ""]
    if figure is not None:
        out += [f"![held-out seen vs unseen MAP@R per epoch]({os.path.relpath(figure, doc.parent)})", ""]
    return out


def regime_markdown(results: RegimeResults, plan: RegimePlan, doc: Path, figures: dict) -> str:
    """The "overfitting regime" section of RESULTS.md."""
    out = ["## A regime where the baseline overfits the seen classes", "",
           "The paper's case for PS is a regulariser against overfitting the seen classes (paper.md). Short budgets "
           "on this data do not overfit, so this part first *looks for* a setting where the **baseline** does, with "
           "a rule fixed before any PS run of these settings was trained, and only then trains PS there:", "",
           f"- Each candidate trains the baseline only ({', '.join(f'{len(s)} seeds on {d}' for d, s in plan.sweep_seeds.items() if d in plan.candidates)}), "
           "holding a few images of every seen class out of training and evaluating them (against the training "
           "images) and the unseen classes every few epochs.",
           f"- Curves are smoothed over {WINDOW} evaluations. The baseline overfits when its mean unseen MAP@R "
           f"peaks before the end and falls by ≥ {100 * MIN_DROP:g} points, more than 2 standard errors over seeds, "
           f"while the held-out-seen − unseen MAP@R gap grows by ≥ {100 * MIN_GAP_GROWTH:g} points (more than 2 SE, "
           f"positive slope), and its final unseen MAP@R varies by at most {100 * MAX_SEED_STD:g} points across "
           f"seeds.",
           "- The regime is the first candidate, in the order listed (mildest change first), that overfits. The "
           "choice never looks at PS.", ""]
    for dataset, selection in results.selection.items():
        name, chosen = DATASET_TITLES.get(dataset, dataset), selection.chosen
        out += [f"### {name}: the sweep", ""]
        if selection.verdicts:
            out += [_verdict_rows(selection.verdicts, plan.candidates[dataset], chosen, selection.why), ""]
        if not selection.complete:
            out += ["**INCOMPLETE: the sweep stopped at a candidate whose runs are not all stored.**", ""]
        elif selection.why != "overfits":
            out += [f"No candidate overfits by this rule within the budget: there is no such regime for {name} "
                    "here (the sweep above is the evidence)."
                    + (f" As a default it takes the first candidate whose baseline is reproducible over seeds, "
                       f"'{chosen.name}'." if chosen is not None else ""), ""]
        if chosen is not None and dataset in results.chosen:
            heading = "the chosen regime" if selection.why == "overfits" else "the new default"
            out += [f"### {name}: PS at {heading} ('{chosen.name}')", ""]
            out += _arms_section(plan, dataset, results.chosen[dataset], doc, figures.get(dataset))
        if dataset in results.explained:
            arms = results.explained[dataset]
            out += [f"### {name}: PS at '{arms.candidate.name}' ({arms.candidate.note})", ""]
            out += _arms_section(plan, dataset, arms, doc, None)
    return "\n".join(out)


__all__ = ["Arms", "RegimeResults", "collect_regime", "comparison_table", "measures_frame", "measures_table",
           "regime_markdown", "write_regime_figures"]
