"""Write the small-data reproduction: CSVs in results/small/, figures, and the Markdown of docs/RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...analysis.stats import ablation_cells, compare, curve_summary, curves_frame, in_percent, runs_frame, spread
from ...base.names import BASELINE, DATASET_TITLES, TABLE_METRIC_NAMES, WITH_PS, column
from ...method.synthesis import RELEASED_ALPHA, RELEASED_MU
from ...train.records import RecordStore, run_key
from . import markdown as md
from .effect_report import effect_section
from .figures import write_figures
from .plan import Plan
from .pretrained_report import pretrained_section
from .regime_report import RegimeResults, collect_regime, regime_interval_count, regime_markdown
from .runner import unique


@dataclass
class SmallResults:
    """What the stored runs say, part by part (metric values as fractions, as the records hold them); ``missing``
    counts planned runs with no record yet."""

    runs: pd.DataFrame
    comparison: pd.DataFrame
    curves: pd.DataFrame
    curve_summary: pd.DataFrame
    ablation_runs: pd.DataFrame
    ablation: pd.DataFrame
    planned: int
    stored: int
    curve_seconds: float = 0.0
    missing: dict = field(default_factory=dict)
    regime: RegimeResults | None = None


def collect(plan: Plan, directory: str | Path) -> SmallResults:
    """Read the plan's runs from the record store and compute every table (runs not stored are left out)."""
    store = RecordStore(directory)
    stored = {run_key(job.config): store.read(job.config) for job in unique(plan.jobs())}  # each file read once
    found, missing = {}, {}
    for part, jobs in (("small", plan.small_jobs()), ("curves", plan.curve_jobs()),
                       ("ablation", plan.ablation_jobs())):
        records = [stored[run_key(job.config)] for job in jobs]
        found[part] = [r for r in records if r is not None]
        missing[part] = sum(r is None for r in records)
    regime = collect_regime(plan.regime.with_datasets(_regime_datasets(plan)), store.read)
    runs = runs_frame(found["small"])
    curves = curves_frame(found["curves"])
    ablation_runs = runs_frame(found["ablation"])
    return SmallResults(
        runs=runs, comparison=compare(runs) if len(runs) else pd.DataFrame(),
        curves=curves, curve_summary=curve_summary(curves) if len(curves) else pd.DataFrame(),
        ablation_runs=ablation_runs,
        ablation=ablation_cells(ablation_runs) if len(ablation_runs) else pd.DataFrame(),
        planned=len(stored) + regime.planned, stored=sum(r is not None for r in stored.values()) + regime.stored,
        curve_seconds=sum(r.get("seconds", 0.0) for r in found["curves"]),
        missing={**missing, "sweep and regime": regime.planned - regime.stored}, regime=regime)


def _regime_datasets(plan: Plan) -> list[str]:
    """The regime's datasets that this plan covers: the toy always, others when the plan has their budget."""
    return [d for d in plan.regime.candidates if d == "toy" or d in plan.budgets]


def write_csvs(results: SmallResults, folder: str | Path) -> list[Path]:
    """One CSV per table of ``results``, metric values in percent (4 decimals)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("runs", results.runs), ("comparison", results.comparison), ("curves", results.curves),
                        ("curves_summary", results.curve_summary), ("ablation_runs", results.ablation_runs),
                        ("ablation", results.ablation)):
        path = folder / f"{name}.csv"
        in_percent(frame).to_csv(path, index=False, float_format="%.4f")
        written.append(path)
    return written


# ---- the Markdown --------------------------------------------------------------------------------------------------
def comparison_markdown(comparison: pd.DataFrame, dataset: str) -> str:
    """One row per loss: each metric's baseline and PS mean ± std, and the paired difference [95% CI], in percent."""
    rows = []
    part = in_percent(comparison[comparison["dataset"] == dataset])
    for loss, group in part.groupby("loss", sort=False):
        row = {"loss": loss, "seeds": int(group["n"].max())}
        for _, r in group.iterrows():
            name = TABLE_METRIC_NAMES[r["metric"]]
            row.update(md.arm_cells(r, f"{name} {BASELINE}", f"{name} PS", f"Δ {name} [95% CI]"))
        rows.append(row)
    return md.to_markdown(pd.DataFrame(rows))


def _verdicts(comparison: pd.DataFrame, dataset: str) -> str:
    """For Recall@1 and MAP@R: for how many losses PS was higher and lower, and the largest gain and loss (points)."""
    part = in_percent(comparison[comparison["dataset"] == dataset])
    lines = []
    for metric in ("recall@1", "map@r"):
        rows = part[part["metric"] == metric]
        up, down = rows[rows["diff"] > 0], rows[rows["diff"] < 0]
        lines.append(f"{TABLE_METRIC_NAMES[metric]}: PS higher for {len(up)} of {len(rows)} losses "
                     f"({int(up['significant'].sum())} significant), lower for {len(down)} "
                     f"({int(down['significant'].sum())} significant)")
        if len(up):
            best = rows.loc[rows["diff"].idxmax()]
            lines[-1] += f"; largest gain {best['diff']:+.2f} ({best['loss']})"
        if len(down):
            worst = rows.loc[rows["diff"].idxmin()]
            lines[-1] += f"; largest loss {worst['diff']:+.2f} ({worst['loss']})"
    return "\n".join(f"- {line}." for line in lines)


def _budget_rows(plan: Plan) -> str:
    rows = []
    for dataset in plan.budgets:
        c = plan.config(dataset, plan.losses[0], False, 0)
        model = c.model + (f" {c.model_options}" if c.model_options else "")
        rows.append({"dataset": dataset, "model": model, "embedding": c.embedding_dim, "epochs": c.epochs,
                     "batch": c.batch_size, "lr (model / proxies)": f"{c.lr:g} / {c.proxy_lr:g}",
                     "optimizer": f"{c.optimizer}, wd {c.weight_decay:g}", "augment": "yes" if c.augment else "no",
                     "data options": c.dataset_options or "–", "seeds": ", ".join(map(str, plan.seeds[dataset]))})
    return md.to_markdown(pd.DataFrame(rows))


def _machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{os.cpu_count()} CPU cores ({cpu}), {device}; Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def _curve_text(summary: pd.DataFrame, short_epoch: int) -> str:
    """What the per-epoch curves say: where each arm's mean peaked, and PS − baseline at the epochs that matter."""
    if summary.empty:
        return "No long runs stored yet."
    c = in_percent(summary).set_index("epoch")
    base, ps = c[column(BASELINE, "mean")], c[column(WITH_PS, "mean")]
    peak, last, ps_peak = int(base.idxmax()), int(c.index.max()), int(ps.idxmax())
    lines = [f"- The baseline's mean unseen MAP@R peaked at epoch {peak} ({base[peak]:.2f}) "
             f"and ended at {base[last]:.2f} after epoch {last} "
             + ("(it fell after its peak)." if peak < last else "(still at its highest: it had not peaked)."),
             f"- With PS the mean peaked at epoch {ps_peak} ({ps[ps_peak]:.2f}) and ended at {ps[last]:.2f}."]
    for label, epoch in (("short budget", short_epoch), ("baseline's peak", peak), ("end", last)):
        if epoch in c.index:
            lines.append(f"- PS − baseline at the {label} (epoch {epoch}): {md.paired_cell(c.loc[epoch])} points.")
    positive = summary[summary["diff"] > 0]
    lines.append(f"- PS's mean was above the baseline's at {len(positive)} of {len(summary)} evaluated epochs"
                 + (f" (from epoch {int(positive['epoch'].min())})" if len(positive) else "")
                 + ". These are the same runs evaluated again, not independent tests: the difference at the end, "
                   "with its interval, is the one to go by.")
    return "\n".join(lines)


def _short_budget_line(comparison: pd.DataFrame, plan: Plan) -> str:
    """The short budget's difference, from the table's runs of the same loss and dataset."""
    if comparison.empty:
        return ""
    rows = comparison[(comparison["dataset"] == plan.curve_dataset) & (comparison["loss"] == plan.curve_loss)
                      & (comparison["metric"] == "map@r")]
    if rows.empty:
        return ""
    cells = md.arm_cells(in_percent(rows).iloc[0])
    return (f"- At the short budget ({_epochs(plan.budgets[plan.curve_dataset]['epochs'])}, the table's runs): "
            f"MAP@R {cells[BASELINE]} → {cells['PS']}, Δ {cells['Δ [95% CI]']}.")


def _ablation_table(results: SmallResults) -> str:
    """The baseline, then each (α, μ) cell: MAP@R mean ± std over seeds and the paired difference, in percent."""
    runs = in_percent(results.ablation_runs)
    base = spread(runs.loc[~runs["ps"], "map@r"])
    rows = [{"α": BASELINE, "μ": "–", "MAP@R": md.mean_std(base["mean"], base["std"]), "Δ vs baseline [95% CI]": "–",
             "seeds": base["n"]}]
    rows += [{"α": f"{r['alpha']:g}", "μ": f"{r['mu']:g}", "MAP@R": md.mean_std(r["mean"], r["std"]),
              "Δ vs baseline [95% CI]": md.paired_cell(r), "seeds": int(r["n"])}
             for _, r in in_percent(results.ablation).iterrows()]
    return md.to_markdown(pd.DataFrame(rows))


def _ablation_text(results: SmallResults) -> str:
    """The best and worst cells, how many are above and below the baseline, and the paper's default cell."""
    if results.ablation.empty:
        return ""
    cells = in_percent(results.ablation)
    best, worst = cells.loc[cells["mean"].idxmax()], cells.loc[cells["mean"].idxmin()]
    default = cells[(cells["alpha"] == RELEASED_ALPHA) & (cells["mu"] == RELEASED_MU)]
    above, below = cells["diff"] > 0, cells["diff"] < 0
    lines = [f"- Best cell α = {best['alpha']:g}, μ = {best['mu']:g}: {best['mean']:.2f} "
             f"({md.paired_cell(best)} vs baseline); "
             f"worst α = {worst['alpha']:g}, μ = {worst['mu']:g}: {worst['mean']:.2f}.",
             f"- {int(above.sum())} of {len(cells)} cells are above the baseline "
             f"({int((cells['significant'] & above).sum())} significantly), "
             f"{int(below.sum())} below ({int((cells['significant'] & below).sum())} significantly)."]
    if len(default):
        lines.append(f"- The paper's default (α = {RELEASED_ALPHA:g}, μ = {RELEASED_MU:g}): {md.paired_cell(default.iloc[0])}.")
    return "\n".join(lines)


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _header(results: SmallResults, command: str, doc: Path, csv_folder: Path) -> list[str]:
    """The title, the line saying what wrote the file, and a warning when planned runs are missing."""
    out = ["# Results: what Proxy Synthesis does on data psviz can run", "",
           f"_Written by `{command}` on {datetime.date.today().isoformat()}. Do not edit by hand: rerun the "
           f"command (finished runs are read back from `{md.relative_link(results_store(csv_folder), doc)}`, "
           f"not redone)._", ""]
    if results.stored < results.planned:
        out += [f"**INCOMPLETE: {results.stored} of {results.planned} planned runs are stored** (missing per part: "
                + ", ".join(f"{k} {v}" for k, v in results.missing.items() if v)
                + "; the ablation's baselines are the table's). Rerun the command to finish; the tables below use "
                  "what is stored.", ""]
    return out


def _method(results: SmallResults, plan: Plan, command: str, doc: Path, csv_folder: Path) -> list[str]:
    """The section on how the numbers were made: command, machine, runs and time, settings, statistics, budgets."""
    total = results.runs["seconds"].sum() + results.ablation_runs["seconds"].sum()
    intervals = paired_interval_count(results)
    return ["## How these numbers were made", "",
            f"- Command: `{command}`. It trains every run of the plan not yet stored (one JSON record per run), then "
            f"writes `{md.relative_link(csv_folder, doc)}/*.csv`, the figures and this file.",
            f"- Machine: {_machine()}.",
            f"- Runs: {results.stored} stored of {results.planned} planned. Per-run training and evaluation time, "
            f"summed: {_duration(total)} for the table and the ablation (long runs: "
            f"{_duration(results.curve_seconds)}), run in parallel worker processes of one "
            f"torch thread each.",
            f"- Loss settings: every loss with its psviz defaults; PS with α = {RELEASED_ALPHA:g}, "
            f"μ = {RELEASED_MU:g} for every loss. Baseline and PS share "
            f"every other setting (same config apart from `ps`); nothing was tuned for either arm.",
            "- Evaluation: the unseen classes (half the classes of each dataset, never trained on), each item a "
            "query against all the others; Recall@1, R-Precision and MAP@R in percent, at the end of training.",
            "- Statistics: mean ± **sample** standard deviation (ddof = 1) over seeds. Δ = PS − baseline, paired "
            "by seed (the same seed gives both arms the same initial weights and batches), with a 95% "
            "t-interval; `*` marks p < 0.05 in a two-sided paired t-test. "
            f"Not corrected for multiple comparisons: this file gives {intervals} paired differences with such an "
            f"interval and test (each table row, evaluated epoch, ablation cell, regime measure and gap counted once; "
            f"the text repeats some of them), so about {0.05 * intervals:.0f} of them could exclude 0 by chance even "
            f"if PS did nothing.",
            "", "Budgets (the same for baseline and PS):", "", _budget_rows(plan), ""]


def paired_interval_count(results: SmallResults) -> int:
    """How many paired differences with a 95% interval the Markdown gives (each also has a t-test): every row of its
    tables and every gap difference, once, whatever the text repeats."""
    tables = (results.comparison, results.curve_summary, results.ablation)
    count = sum(int(table["ci_low"].notna().sum()) for table in tables if len(table))
    if results.regime is not None and results.regime.selection:
        count += regime_interval_count(results.regime)
    return count


def _dataset_sections(results: SmallResults, plan: Plan) -> list[str]:
    """One section per dataset of the plan: its comparison table and the verdicts under it."""
    out = []
    for dataset in plan.budgets:
        title = DATASET_TITLES.get(dataset, dataset)
        if results.comparison.empty or dataset not in set(results.comparison["dataset"]):
            out += [f"## {title}", "", "No runs stored yet.", ""]
            continue
        out += [f"## {title}: unseen classes, {len(plan.seeds[dataset])} seeds", "",
                comparison_markdown(results.comparison, dataset), "", _verdicts(results.comparison, dataset), ""]
    return out


def _length_section(results: SmallResults, plan: Plan, doc: Path, figures: dict[str, Path]) -> list[str]:
    """The long runs: the figure, what the curves say and, folded, every evaluated epoch."""
    short = plan.budgets[plan.curve_dataset]["epochs"]
    out = [f"## Training length: {plan.curve_loss} on {plan.curve_dataset}, {short} vs {_epochs(plan.curve_epochs)}",
           "", f"The table's runs stop after {_epochs(short)}; these runs train the same model for "
           f"{_epochs(plan.curve_epochs)} and evaluate the unseen classes every {_epochs(plan.curve_eval_every)} "
           f"({len(plan.seeds[plan.curve_dataset])} seeds per arm).", ""]
    if "curves" in figures:
        out += [f"![unseen MAP@R per epoch]({md.relative_link(figures['curves'], doc)})", ""]
    out += [_curve_text(results.curve_summary, short), _short_budget_line(results.comparison, plan), ""]
    if len(results.curve_summary):
        out += ["<details><summary>Every evaluated epoch (unseen MAP@R %)</summary>", "",
                md.curve_table(in_percent(results.curve_summary)), "", "</details>", ""]
    return out


def _ablation_section(results: SmallResults, plan: Plan, doc: Path, figures: dict[str, Path]) -> list[str]:
    """The α × μ ablation: the heatmap, what it says and the table of cells."""
    out = [f"## α × μ ablation: {plan.ablation_loss} on {plan.ablation_dataset}, "
           f"{_epochs(plan.budgets[plan.ablation_dataset]['epochs'])}, {len(plan.seeds[plan.ablation_dataset])} seeds",
           "", "Unseen MAP@R (%); each cell is compared with the baseline's runs of the same seeds.", ""]
    if "ablation" in figures:
        out += [f"![alpha x mu heatmap]({md.relative_link(figures['ablation'], doc)})", ""]
    if len(results.ablation_runs):
        out += [_ablation_text(results), "", _ablation_table(results), ""]
    return out


def render(results: SmallResults, plan: Plan, *, command: str, doc: Path, csv_folder: Path,
           figures: dict[str, Path], effect_map: list[str] = ()) -> str:
    """The whole RESULTS.md text, section by section (metric values in percent); ``effect_map``: the lines of
    `effect_section`, placed after the regime."""
    out = _header(results, command, doc, csv_folder) + _method(results, plan, command, doc, csv_folder)
    out += _dataset_sections(results, plan) + _length_section(results, plan, doc, figures)
    out += _ablation_section(results, plan, doc, figures)
    if results.regime is not None and results.regime.selection:
        out += [regime_markdown(results.regime, plan.regime, doc, figures.get("regime", {})), ""]
    out += list(effect_map)
    out += [full_scale_section(csv_folder.parent), ""]
    return "\n".join(out)


def results_store(csv_folder: Path) -> Path:
    return Path(csv_folder) / "runs"


def full_scale_section(results_root: str | Path = "results") -> str:
    """How to run the paper's benchmarks, any full-scale tables found under ``results_root``, and Table 6."""
    import torch

    from ...base.paper import BENCHMARKS, SOURCE, table6

    paper = table6()
    rows = []
    for loss in paper["loss"].unique():
        row = {"loss": loss}
        for _, r in paper[paper["loss"] == loss].iterrows():
            row[r["dataset"]] = f"{r['baseline']:.1f} → {r['with_ps']:.1f} ({r['difference']:+.1f})"
        rows.append(row)
    found = [Path(results_root) / name / "RESULTS.md" for name in BENCHMARKS
             if (Path(results_root) / name / "RESULTS.md").is_file()]
    where = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    status = ("Full-scale results: " + ", ".join(f"`{p}`" for p in found) + ".") if found else \
        f"No full-scale results are stored under `{results_root}/` (the machine that wrote this file: {where})."
    return "\n".join([
        "## Full scale: the paper's benchmarks", "",
        "`psviz reproduce --benchmark cub200 --root DIR` (or cars196, sop, inshop; `--losses norm_softmax,proxy_nca` "
        "to choose) trains the paper's recipe (BN-Inception from ImageNet weights, 512-d, 130 epochs) with and "
        "without PS on a GPU and writes its table beside the paper's numbers in `results/<benchmark>/`. Without a GPU "
        "or with an incomplete dataset folder it stops at once with a message saying what is missing.", "",
        status, "",
        f"The paper's Table 6, unseen Recall@1 (%) baseline → with PS (difference); source: {SOURCE}. Proxy-anchor "
        "used its own recipe.", "", md.to_markdown(pd.DataFrame(rows))])


def write_report(plan: Plan, *, results_dir: str | Path = "results/small", doc: str | Path = "docs/RESULTS.md",
                 images: str | Path = "docs/images", command: str = "psviz reproduce") -> SmallResults:
    """CSVs, figures and the Markdown from the runs stored in ``results_dir``/runs."""
    results_dir, doc = Path(results_dir), Path(doc)
    results = collect(plan, results_store(results_dir))
    write_csvs(results, results_dir)
    figures = write_figures(results, plan, images)
    read = RecordStore(results_store(results_dir)).read
    effect_map, _ = effect_section(plan.effect_map, read, doc=doc, images=Path(images), command=command)
    effect_map += pretrained_section(plan.pretrained, read, command=command)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(results, plan, command=command, doc=doc, csv_folder=results_dir, figures=figures,
                          effect_map=effect_map))
    return results


__all__ = ["SmallResults", "collect", "comparison_markdown", "paired_interval_count", "render", "write_csvs",
           "write_report"]
