"""The regime part of docs/RESULTS.md: the sweep and its verdicts, the chosen regime's ≥ 5-seed comparison, the
mechanism measures of both arms, how firm the choice and the result are, and the gap figure."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...analysis.stats import (compare, curve_summary, curves_frame, holm, in_percent, paired_difference, runs_frame,
                              sign_flip_p, spread)
from ...analysis.text import measure_label
from ...base.names import ARMS, BASELINE, DATASET_TITLES, PERCENT_MEASURES, TABLE_METRIC_NAMES, WITH_PS, column
from ...base.percent import percent
from ...method.synthesis import RELEASED_ALPHA, RELEASED_MU
from ...train.mechanism import MEASURE_NAMES
from . import markdown as md
from . import regime
from .regime import MAX_SEED_STD, MIN_DROP, MIN_GAP_GROWTH, WINDOW, Candidate, RegimePlan, Verdict, choose, select

# Smoothing windows the chosen regime is judged at besides `WINDOW`, to show how much the choice rests on it.
OTHER_WINDOWS = tuple(w for w in (2, 3, 4, 5) if w != WINDOW)
# Candidates put on the list after the ones before them had failed the rule (see the comment on GLYPHS_CANDIDATES in
# psviz/apps/reproduce/regime.py): a fact about how the list was made, which the records cannot show.
ADDED_LATER = {"glyphs": ("higher-lr-longer", "highest-lr")}


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

    selection: dict  # dataset -> psviz.apps.reproduce.regime.Selection
    chosen: dict = field(default_factory=dict)  # dataset -> Arms at the chosen candidate
    windows: dict = field(default_factory=dict)  # dataset -> {window: verdicts of the sweep at that window}
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


def _gaps_at(records: dict, epoch: int) -> dict:
    """Held-out-seen minus unseen MAP@R (a fraction) at ``epoch``, per arm: {seed: gap} for the runs evaluated there."""
    def gap(record):
        row = next((r for r in record["history"]
                    if r.get("epoch") == epoch and "heldout/map@r" in r and "unseen/map@r" in r), None)
        return None if row is None else row["heldout/map@r"] - row["unseen/map@r"]
    found = {arm: {r["config"]["seed"]: gap(r) for r in rs} for arm, rs in records.items()}
    return {arm: {seed: value for seed, value in by_seed.items() if value is not None}
            for arm, by_seed in found.items()}


def gap_change(records: dict, start: int | None, end: int) -> dict:
    """The held-out-seen − unseen MAP@R gap at epoch ``end`` (``start`` None) or its growth from ``start`` to ``end``:
    each arm's (mean, std) over seeds and PS − baseline paired by seed (fractions); {} without paired seeds."""
    last = _gaps_at(records, end)
    first = _gaps_at(records, start) if start is not None else {arm: {} for arm in last}
    change = {arm: {s: v - first[arm].get(s, 0.0) for s, v in last[arm].items() if start is None or s in first[arm]}
              for arm in last}
    seeds = sorted(set(change.get(BASELINE, {})) & set(change.get(WITH_PS, {})))
    if not seeds:
        return {}
    values = {arm: np.array([change[arm][s] for s in seeds]) for arm, _ in ARMS}
    arms = {arm: (spread(v)["mean"], spread(v)["std"]) for arm, v in values.items()}
    return {**arms, **paired_difference(values[BASELINE], values[WITH_PS])}


def seed_differences(records: dict, metric: str) -> tuple[list, np.ndarray]:
    """(seeds, PS − baseline end ``metric`` per seed, a fraction) over the seeds both arms finished, in seed order."""
    by_seed = {arm: {r["config"]["seed"]: r.get("metrics", {}).get(metric, np.nan) for r in rs}
               for arm, rs in records.items()}
    seeds = sorted(s for s in set(by_seed.get(BASELINE, {})) & set(by_seed.get(WITH_PS, {}))
                   if not np.isnan(by_seed[BASELINE][s] - by_seed[WITH_PS][s]))
    return seeds, np.array([by_seed[WITH_PS][s] - by_seed[BASELINE][s] for s in seeds], float)


def sweep_verdicts(plan: RegimePlan, dataset: str, read, window: int) -> list[Verdict]:
    """Every candidate of ``dataset`` judged at ``window``, in the listed order, up to the first with missing runs."""
    verdicts = []
    for candidate in plan.candidates[dataset]:
        records = [read(plan.config(candidate, False, seed)) for seed in plan.sweep_seeds[dataset]]
        if any(r is None for r in records):
            break
        verdicts.append(regime.judge(candidate.name, records, window=window))
    return verdicts


def collect_regime(plan: RegimePlan, read) -> RegimeResults:
    """Read the sweep and regime runs through ``read(config)`` (a `RecordStore`'s read) and compute every table."""
    selection = select(plan, read)
    results = RegimeResults(selection)
    for dataset, chosen in selection.items():
        if chosen.chosen is not None:
            results.chosen[dataset] = _arms(plan, dataset, chosen.chosen, read)
        if chosen.why == "overfits":
            results.windows[dataset] = {window: sweep_verdicts(plan, dataset, read, window) for window in OTHER_WINDOWS}
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


# ---- Markdown --------------------------------------------------------------------------------------------------------

def _verdict_rows(verdicts: list[Verdict], candidates, chosen: Candidate | None, why: str) -> str:
    notes = {c.name: c.note for c in candidates}
    rows = []
    for v in verdicts:
        rows.append({"candidate": v.candidate, "what changes": notes.get(v.candidate, ""), "seeds": v.n_seeds,
                     "peak (epoch)": f"{percent(v.peak):.2f} ({v.peak_epoch})",
                     "end (epoch)": f"{percent(v.last):.2f} ({v.last_epoch})",
                     "drop ± SE": f"{percent(v.drop):+.2f} ± {percent(v.drop_se):.2f}",
                     "gap at peak → end": f"{percent(v.gap_at_peak):.2f} → {percent(v.gap_at_end):.2f}",
                     "gap growth ± SE": f"{percent(v.gap_growth):+.2f} ± {percent(v.gap_growth_se):.2f}",
                     "end std": f"{percent(v.end_std):.2f}",
                     "overfits": ("yes" if v.overfits else "no: " + "; ".join(v.reasons))
                     + (f" **(chosen: {'overfits' if why == 'overfits' else 'first reproducible'})**"
                        if chosen is not None and v.candidate == chosen.name else "")})
    return md.to_markdown(pd.DataFrame(rows))


def _metric_name(metric: str) -> str:
    """The table header's short name of a metric ("MAP@R"), or the key itself for any other."""
    return TABLE_METRIC_NAMES.get(metric, metric)


def comparison_table(comparison: pd.DataFrame) -> str:
    """The regime's comparison (`psviz.analysis.stats.compare`, fractions) as a table in percent."""
    rows = [{"metric": _metric_name(r["metric"]), "seeds": int(r["n"]),
             **md.arm_cells(r, BASELINE, WITH_PS, "Δ PS − baseline [95% CI]")}
            for _, r in in_percent(comparison).iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def measures_markdown(measures: pd.DataFrame) -> str:
    """`measures_frame` as a table: each measure in its own unit, shares in percent."""
    shares = measures["key"].isin(PERCENT_MEASURES)
    shown = pd.concat([in_percent(measures[shares]), measures[~shares]]).sort_index()
    rows = [{"measure": measure_label(r["key"]),
             **md.arm_cells(r, BASELINE, WITH_PS)} for _, r in shown.iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def _said(comparison: pd.DataFrame, records: dict) -> str:
    """One line per metric, saying which way PS went on average and on how many seeds, and whether the interval
    excludes 0."""
    lines = []
    for _, r in in_percent(comparison).iterrows():
        if np.isnan(r["diff"]):
            continue
        way = "higher" if r["diff"] > 0 else "lower"
        _, diffs = seed_differences(records, r["metric"])
        same = int((np.sign(diffs) == np.sign(r["diff"])).sum())
        sure = "the 95% interval excludes 0" if r["significant"] else "the 95% interval includes 0"
        lines.append(f"{_metric_name(r['metric'])} {way} with PS by {abs(r['diff']):.2f} points on average, {way} on "
                     f"{same} of {len(diffs)} seeds ({sure})")
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
    parts.append(f"PS's mean was above the baseline's at {ahead} of {len(curve)} evaluations (evaluations of the "
                 f"same runs, not independent tests: the difference at the end, with its interval, is the one to go "
                 f"by)")
    return "Per epoch: " + "; ".join(parts) + "."


def _gap_cells(gap: dict) -> tuple[dict, str]:
    """Each arm's mean ± std and the paired difference of a gap (`final_gap`, `gap_change`), in points."""
    shown = {arm: md.mean_std(*(percent(value) for value in gap[arm])) for arm, _ in ARMS}
    return shown, md.paired_cell({**gap, **{k: percent(gap[k]) for k in ("diff", "ci_low", "ci_high")}})


def gap_summary(arms: Arms) -> list[tuple[str, int | None, dict]]:
    """The gap differences `_gap_line` states: ("end", None, `final_gap`); with per-epoch curves also ("first", the
    first evaluated epoch, the gap there) and ("growth", the baseline's peak epoch, the gap's growth from it to the
    end) when that peak is before the end. A difference that cannot be computed is {}."""
    out = [("end", None, arms.gap)]
    if len(arms.curve):
        first, last = int(arms.curve["epoch"].min()), int(arms.curve["epoch"].max())
        peak = int(arms.curve.set_index("epoch")[column(BASELINE, "mean")].idxmax())
        out.append(("first", first, gap_change(arms.records, None, first)))
        if peak < last:
            out.append(("growth", peak, gap_change(arms.records, peak, last)))
    return out


def _gap_line(arms: Arms) -> str:
    """The end-of-training gap of both arms and their paired difference, then where that difference already stood at
    the first evaluation and how the gap grew from the baseline's peak epoch to the end, in points."""
    text = ""
    for kind, epoch, gap in gap_summary(arms):
        if not gap:
            continue
        shown, delta = _gap_cells(gap)
        text += {"end": f"Held-out-seen − unseen MAP@R gap at the end: baseline {shown[BASELINE]}, with PS "
                        f"{shown[WITH_PS]}, Δ {delta} points.",
                 "first": f" At the first evaluation (epoch {epoch}) the difference was Δ {delta}.",
                 "growth": f" From the baseline's peak (epoch {epoch}) to the end the gap grew {shown[BASELINE]} "
                           f"points without PS and {shown[WITH_PS]} with PS, Δ {delta} points."}[kind]
    return text.strip()


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
    out = [f"Setting: {_config_line(plan, arms.candidate)}; PS with α = {RELEASED_ALPHA:g}, μ = {RELEASED_MU:g}.", ""]
    if arms.missing:
        out += [f"**INCOMPLETE: {arms.missing} of {2 * len(plan.regime_seeds[dataset])} runs are not stored yet.**", ""]
    if len(arms.comparison):
        seconds = [r.get("seconds", np.nan) for rs in arms.records.values() for r in rs]
        out += [f"Unseen classes at the end of training, {n} seeds per arm (mean ± sample std; Δ paired by seed, "
                f"`*` for p < 0.05). {_said(arms.comparison, arms.records)}", "", comparison_table(arms.comparison),
                "",
                f"Training and evaluation took {np.nanmean(seconds):.0f} s a run on average in the reproduction's "
                f"one-thread workers.", ""]
    if arms.gap:
        out += [_gap_line(arms), ""]
    if len(arms.curve):
        out += [_curve_lines(arms.curve), "", "<details><summary>Unseen MAP@R (%) at every evaluated epoch"
                "</summary>", "", md.curve_table(in_percent(arms.curve)), "", "</details>", ""]
    if len(arms.measures):
        out += ["Mechanism measures at the end of training (`psviz.train.mechanism_measures`; for the baseline, the "
                "synthetic points are those PS would make from its embeddings):", "", measures_markdown(arms.measures),
                ""]
    if figure is not None:
        out += [f"![held-out seen vs unseen MAP@R per epoch]({os.path.relpath(figure, doc.parent)})", ""]
    return out


def _rule_lines(selection, windows: dict, plan: RegimePlan, dataset: str) -> list[str]:
    """How narrowly the chosen candidate passed the rule, what other smoothing windows would have chosen, and which
    candidates joined the list late."""
    name = selection.chosen.name
    verdict = next(v for v in selection.verdicts if v.candidate == name)
    margin = verdict.drop - MIN_DROP
    lines = [f"- The rule: '{name}' cleared its threshold on the drop by {percent(margin):.2f} point: its baseline's "
             f"smoothed unseen MAP@R fell {percent(verdict.drop):.2f} points after its peak, against a threshold of "
             f"{percent(MIN_DROP):g}."]
    if windows:
        verdict_at = {w: next(v for v in verdicts if v.candidate == name) for w, verdicts in windows.items()}
        picks = {}
        for window, verdicts in windows.items():
            other = choose(verdicts)
            picks.setdefault(f"'{other.candidate}'" if other is not None else "no candidate", []).append(window)
        lines.append(f"- The smoothing window: judged with other windows than {WINDOW} evaluations, '{name}' "
                     + "; ".join(f"{'passes' if verdict_at[w].overfits else 'fails'} at {w} (drop "
                                 f"{percent(verdict_at[w].drop):.2f} ± "
                                 f"{percent(verdict_at[w].drop_se):.2f} (SE) points)"
                                 for w in windows)
                     + ". The rule would then choose " + "; ".join(f"{pick} at a window of {_or(ws)}"
                                                                  for pick, ws in picks.items()) + ".")
    late = [c.name for c in plan.candidates[dataset] if c.name in ADDED_LATER.get(dataset, ())]
    if late:
        first = len(plan.candidates[dataset]) - len(late)
        lines.append(f"- The list: {' and '.join(f'{n!r}' for n in late)} were added to the candidates after the first "
                     f"{first} had failed the rule (only their baselines had been trained): the rule was fixed before "
                     f"any PS run, the list of candidates was not.")
    return lines


def _or(values) -> str:
    """'2', '2 or 4', '2, 4 or 5'."""
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _result_lines(arms: Arms, metric: str = "map@r") -> list[str]:
    """How much the end difference in ``metric`` rests on one seed, on one of several tests, and on five seeds."""
    rows = arms.comparison.set_index("metric")
    if metric not in rows.index or rows.loc[metric, "n"] < 2:
        return []
    row, name = rows.loc[metric], _metric_name(metric)
    seeds, diffs = seed_differences(arms.records, metric)
    if not diffs.sum():
        return []
    top = int(np.argmax(diffs * np.sign(diffs.sum())))
    adjusted = dict(zip(rows.index, holm(rows["p"].to_numpy())))
    least = 2 / 2 ** len(diffs)
    return [f"- The gain: {name} {md.paired_cell(in_percent(rows.loc[[metric]]).iloc[0])} points, p = {row['p']:.3f} "
            f"(paired t-test, {len(diffs)} seeds); seed {seeds[top]} alone gives "
            f"{percent(diffs[top]) / diffs.sum():.1f}% "
            f"of it ({percent(diffs[top]):+.2f} of the seeds' summed {percent(diffs.sum()):+.2f} points).",
            f"- Several tests: over the regime's {len(rows)} end metrics "
            f"({', '.join(_metric_name(m) for m in rows.index)}), the Holm-adjusted p-values are "
            + ", ".join(f"{adjusted[m]:.3f} ({_metric_name(m)})" for m in rows.index) + ".",
            f"- Few seeds: an exact sign-flip test over {len(diffs)} seeds cannot give p below 2 / 2^{len(diffs)} = "
            f"{least:.4g}; for {name} it gives {sign_flip_p(diffs):.4g}."]


def _firmness(results: RegimeResults, plan: RegimePlan, dataset: str) -> list[str]:
    """The paragraph on how firm the chosen regime and PS's result there are, from the same stored runs."""
    selection, arms = results.selection[dataset], results.chosen.get(dataset)
    if selection.why != "overfits" or arms is None or not len(arms.comparison):
        return []
    return ["**How firm this is** (from the same stored runs):", "",
            *_rule_lines(selection, results.windows.get(dataset, {}), plan, dataset), *_result_lines(arms), ""]


def regime_interval_count(results: RegimeResults) -> int:
    """How many paired differences with a 95% interval `regime_markdown` gives, each once: per set of arms, the end
    metrics, every evaluated epoch, the mechanism measures and the gap differences."""
    count = 0
    for arms in [*results.chosen.values(), *results.explained.values()]:
        count += sum(int(table["ci_low"].notna().sum()) for table in (arms.comparison, arms.curve, arms.measures)
                     if len(table))
        if arms.gap:
            count += sum(1 for _, _, gap in gap_summary(arms) if gap and not np.isnan(gap["ci_low"]))
    return count


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
           f"peaks before the end and falls by ≥ {percent(MIN_DROP):g} points, more than 2 standard errors over "
           f"seeds, while the held-out-seen − unseen MAP@R gap grows by ≥ {percent(MIN_GAP_GROWTH):g} points "
           "(more than 2 SE, "
           f"positive slope), and its final unseen MAP@R varies by at most {percent(MAX_SEED_STD):g} points across "
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
            heading = ("the chosen regime" if selection.why == "overfits" else
                       "the sweep's default (since replaced by rule T of the effect map)")
            out += [f"### {name}: PS at {heading} ('{chosen.name}')", ""]
            out += _arms_section(plan, dataset, results.chosen[dataset], doc, figures.get(dataset))
            out += _firmness(results, plan, dataset)
        if dataset in results.explained:
            arms = results.explained[dataset]
            out += [f"### {name}: PS at '{arms.candidate.name}' ({arms.candidate.note})", ""]
            out += _arms_section(plan, dataset, arms, doc, None)
    return "\n".join(out)


__all__ = ["Arms", "OTHER_WINDOWS", "RegimeResults", "collect_regime", "comparison_table", "gap_change", "gap_summary",
           "measures_frame", "measures_markdown", "regime_interval_count", "regime_markdown", "seed_differences",
           "sweep_verdicts"]
