"""The regime part of docs/RESULTS.md: the sweep and its verdicts, the chosen regime's ≥ 5-seed comparison, the
mechanism measures of both arms, and the gap figure."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..train.mechanism import MEASURE_NAMES
from . import markdown as md
from .regime import MAX_SEED_STD, MIN_DROP, MIN_GAP_GROWTH, WINDOW, Candidate, RegimePlan, Verdict, select
from .stats import compare, curve_summary, curves_frame, paired_difference, runs_frame

METRIC_NAMES = {"recall@1": "R@1", "r_precision": "R-Prec", "map@r": "MAP@R"}
DATASET_NAMES = {"glyphs": "Glyphs", "toy": "Toy"}
# mechanism measures reported as percentages (fractions in the records)
PERCENT = ("transition_width", "unseen_confidence", "heldout_confidence", "unseen_closer_to_synthetic",
           "heldout_closer_to_synthetic")


@dataclass
class Arms:
    """Both arms of one candidate over the regime seeds: run records, the comparison and the measures' table."""

    candidate: Candidate
    records: dict  # "baseline" / "with PS" -> list of records (seed order)
    comparison: pd.DataFrame
    measures: pd.DataFrame
    curve: pd.DataFrame  # unseen MAP@R per evaluated epoch: each arm's mean and std, the paired difference
    gap: dict  # the held-out-seen - unseen MAP@R gap at the end: each arm's mean / std and the paired difference
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
    """Per measure: each arm's mean ± sample std over seeds and the paired PS − baseline difference."""
    by_seed = {arm: {r["config"]["seed"]: r.get("measures", {}) for r in rs} for arm, rs in records.items()}
    seeds = sorted(set(by_seed.get("baseline", {})) & set(by_seed.get("with PS", {})))
    rows = []
    for key, label in MEASURE_NAMES.items():
        values = {arm: np.array([by_seed[arm][s][key] for s in seeds if key in by_seed[arm][s]], float)
                  for arm in ("baseline", "with PS")}
        if not len(values["baseline"]) or len(values["baseline"]) != len(values["with PS"]):
            continue
        scale = 100.0 if key in PERCENT else 1.0
        base, ps = scale * values["baseline"], scale * values["with PS"]
        row = {"key": key, "measure": label + (", %" if key in PERCENT else ""), "n": len(base),
               "baseline_mean": base.mean(), "baseline_std": base.std(ddof=1) if len(base) > 1 else np.nan,
               "ps_mean": ps.mean(), "ps_std": ps.std(ddof=1) if len(ps) > 1 else np.nan}
        row.update(paired_difference(base, ps))
        rows.append(row)
    return pd.DataFrame(rows)


def _arms(plan: RegimePlan, dataset: str, candidate: Candidate, read) -> Arms:
    records, missing = {"baseline": [], "with PS": []}, 0
    for seed in plan.regime_seeds[dataset]:
        for arm, ps in (("baseline", False), ("with PS", True)):
            record = read(plan.config(candidate, ps, seed))
            if record is None:
                missing += 1
            else:
                records[arm].append(record)
    frame = runs_frame(records["baseline"] + records["with PS"])
    comparison = compare(frame, by=("dataset",)) if len(frame) else pd.DataFrame()
    curves = curves_frame(records["baseline"] + records["with PS"])
    curve = curve_summary(curves) if len(curves) else pd.DataFrame()
    return Arms(candidate, records, comparison, measures_frame(records), curve, final_gap(records), missing)


def final_gap(records: dict) -> dict:
    """Held-out-seen minus unseen MAP@R (points) at each run's last evaluation, per arm, paired by seed."""
    def gap(record):
        row = next((r for r in reversed(record["history"]) if "heldout/map@r" in r and "unseen/map@r" in r), None)
        return None if row is None else 100 * (row["heldout/map@r"] - row["unseen/map@r"])
    by_seed = {arm: {r["config"]["seed"]: gap(r) for r in rs} for arm, rs in records.items()}
    seeds = sorted(s for s in set(by_seed["baseline"]) & set(by_seed["with PS"])
                   if by_seed["baseline"][s] is not None and by_seed["with PS"][s] is not None)
    if not seeds:
        return {}
    base = np.array([by_seed["baseline"][s] for s in seeds])
    ps = np.array([by_seed["with PS"][s] for s in seeds])
    return {"baseline": (base.mean(), base.std(ddof=1) if len(base) > 1 else np.nan),
            "with PS": (ps.mean(), ps.std(ddof=1) if len(ps) > 1 else np.nan), **paired_difference(base, ps)}


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
        if not arms.records["baseline"] or not arms.records["with PS"]:
            continue
        runs = {arm: [r["history"] for r in records] for arm, records in arms.records.items()}
        fig = generalisation_gap(runs, backend="matplotlib",
                                 title=f"{DATASET_NAMES.get(dataset, dataset)}, regime '{arms.candidate.name}': "
                                       f"held-out seen vs unseen MAP@R")
        written[dataset] = save_figure(fig, Path(images) / f"regime_{dataset}_gap.png")
    return written


# ---- Markdown --------------------------------------------------------------------------------------------------------

def _verdict_rows(verdicts: list[Verdict], candidates, chosen: Candidate | None, why: str) -> str:
    notes = {c.name: c.note for c in candidates}
    rows = []
    for v in verdicts:
        rows.append({"candidate": v.candidate, "what changes": notes.get(v.candidate, ""), "seeds": v.n_seeds,
                     "peak (epoch)": f"{v.peak:.2f} ({v.peak_epoch})",
                     "end (epoch)": f"{v.last:.2f} ({v.last_epoch})",
                     "drop ± SE": f"{v.drop:+.2f} ± {v.drop_se:.2f}",
                     "gap at peak → end": f"{v.gap_at_peak:.2f} → {v.gap_at_end:.2f}",
                     "gap growth ± SE": f"{v.gap_growth:+.2f} ± {v.gap_growth_se:.2f}",
                     "end std": f"{v.end_std:.2f}",
                     "overfits": ("yes" if v.overfits else "no: " + "; ".join(v.reasons))
                     + (f" **(chosen: {'overfits' if why == 'overfits' else 'first reproducible'})**"
                        if chosen is not None and v.candidate == chosen.name else "")})
    return md.to_markdown(pd.DataFrame(rows))


def comparison_table(comparison: pd.DataFrame) -> str:
    rows = []
    for _, r in comparison.iterrows():
        rows.append({"metric": METRIC_NAMES.get(r["metric"], r["metric"]), "seeds": int(r["n"]),
                     "baseline": md.mean_std(r["baseline_mean"], r["baseline_std"]),
                     "with PS": md.mean_std(r["ps_mean"], r["ps_std"]),
                     "Δ PS − baseline [95% CI]": md.difference(r["diff"], r["ci_low"], r["ci_high"],
                                                              r["significant"])})
    return md.to_markdown(pd.DataFrame(rows))


def measures_table(measures: pd.DataFrame) -> str:
    rows = [{"measure": r["measure"], "baseline": md.mean_std(r["baseline_mean"], r["baseline_std"]),
             "with PS": md.mean_std(r["ps_mean"], r["ps_std"]),
             "Δ [95% CI]": md.difference(r["diff"], r["ci_low"], r["ci_high"], r["p"] < 0.05)}
            for _, r in measures.iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def _said(comparison: pd.DataFrame) -> str:
    """One line per metric, saying which way PS went and whether the interval excludes 0."""
    lines = []
    for _, r in comparison.iterrows():
        if np.isnan(r["diff"]):
            continue
        way = "higher" if r["diff"] > 0 else "lower"
        sure = "the 95% interval excludes 0" if r["significant"] else "the 95% interval includes 0"
        lines.append(f"{METRIC_NAMES.get(r['metric'], r['metric'])} {way} with PS by {abs(r['diff']):.2f} points "
                     f"({sure})")
    return "; ".join(lines) + "." if lines else ""


def _curve_lines(curve: pd.DataFrame) -> str:
    c = curve.set_index("epoch")
    peak, last = int(c["baseline_mean"].idxmax()), int(c.index.max())
    ahead = int((curve["diff"] > 0).sum())
    parts = [f"the baseline's mean unseen MAP@R peaked at epoch {peak} ({c.loc[peak, 'baseline_mean']:.2f}) and "
             f"ended at {c.loc[last, 'baseline_mean']:.2f}; PS's peaked at epoch {int(c['ps_mean'].idxmax())} "
             f"({c['ps_mean'].max():.2f}) and ended at {c.loc[last, 'ps_mean']:.2f}"]
    for label, epoch in (("at the baseline's peak", peak), ("at the end", last)):
        r = c.loc[epoch]
        parts.append(f"PS − baseline {label} (epoch {epoch}): "
                     f"{md.difference(r['diff'], r['ci_low'], r['ci_high'], r['p'] < 0.05)} points")
    parts.append(f"PS was ahead at {ahead} of {len(curve)} evaluations")
    return "Per epoch: " + "; ".join(parts) + "."


def _curve_table(curve: pd.DataFrame) -> str:
    rows = [{"epoch": int(r["epoch"]), "baseline": md.mean_std(r["baseline_mean"], r["baseline_std"]),
             "PS": md.mean_std(r["ps_mean"], r["ps_std"]),
             "Δ [95% CI]": md.difference(r["diff"], r["ci_low"], r["ci_high"], r["p"] < 0.05)}
            for _, r in curve.iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


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
    n = len(arms.records["with PS"])
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
        g = arms.gap
        out += [f"Held-out-seen − unseen MAP@R gap at the end: baseline {md.mean_std(*g['baseline'])}, with PS "
                f"{md.mean_std(*g['with PS'])}, Δ {md.difference(g['diff'], g['ci_low'], g['ci_high'], g['p'] < 0.05)}"
                " points.", ""]
    if len(arms.curve):
        out += [_curve_lines(arms.curve), "", "<details><summary>Unseen MAP@R (%) at every evaluated epoch"
                "</summary>", "", _curve_table(arms.curve), "", "</details>", ""]
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
           f"peaks before the end and falls by ≥ {MIN_DROP} points, more than 2 standard errors over seeds, while "
           f"the held-out-seen − unseen MAP@R gap grows by ≥ {MIN_GAP_GROWTH} points (more than 2 SE, positive "
           f"slope), and its final unseen MAP@R varies by at most {MAX_SEED_STD:g} points across seeds.",
           "- The regime is the first candidate, in the order listed (mildest change first), that overfits. The "
           "choice never looks at PS.", ""]
    for dataset, selection in results.selection.items():
        name, chosen = DATASET_NAMES.get(dataset, dataset), selection.chosen
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
