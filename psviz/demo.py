"""`psviz demo`: Norm-SoftMax with and without Proxy Synthesis on the embedded glyphs data, at two budgets.

1. The short budget (a small CNN, 6 epochs): the baseline is still learning, there is little overfitting to undo.
2. The overfitting regime that `psviz reproduce` found on the baseline alone (see `psviz.reproduce.regime`): an MLP
   trained until its unseen-class MAP@R has peaked and fallen, with held-out seen-class items for the gap.
Both are compared on the unseen classes, with the mechanism measures for the regime, and drawn.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from .names import ARMS, BASELINE, PERCENT_MEASURES, RUN_METRICS, WITH_PS, arm_of, folder_name
from .train import fit, fit_in_workers, mechanism_measures, preset
from .train.mechanism import MEASURE_NAMES

DEMO_EPOCHS = 6  # about 80 s a run on 2 CPU cores
DEMO_WORKERS = 2  # the two arms train side by side, each in its own process
# The glyphs candidate `psviz reproduce` chose by the baseline-only rule (tests check the stored sweep agrees).
REGIME = "higher-lr-longer"
RESULTS_NOTE = "one seed; docs/RESULTS.md has this setting over five seeds, with 95% intervals"


def demo_config(ps: bool, output_dir: Path, epochs: int | None = None, seed: int = 0, **changes):
    """The short budget: the glyphs preset (small CNN, 64-d, Norm-SoftMax), identical with and without PS,
    evaluated three times (for the training curves) unless ``changes`` say otherwise."""
    epochs = DEMO_EPOCHS if epochs is None else epochs
    values = dict(ps=ps, seed=seed, epochs=epochs, eval_every=max(1, epochs // 3),
                  output_dir=str(Path(output_dir) / folder_name(arm_of(ps))))
    return preset("glyphs", **{**values, **changes})


def regime_candidate():
    """The regime's `psviz.reproduce.regime.Candidate` (`REGIME`)."""
    from .reproduce.regime import GLYPHS_CANDIDATES

    return next(c for c in GLYPHS_CANDIDATES if c.name == REGIME)


EXPLORER_CLASSES = 150  # characters a split in explorer.html, with all their images (UMAP of ~3,400 items a run)
REGIME_EVAL_EVERY = 8  # half as many evaluations as the sweep's: the same training, a minute less on 2 cores


def regime_config(ps: bool, output_dir: Path | None = None, seed: int = 0, **changes):
    """The overfitting regime's run as `psviz reproduce` trains it (evaluating unseen and held-out items less often,
    which changes nothing it learns), saved under ``output_dir``/regime/ when given."""
    from .reproduce.regime import RegimePlan

    config = RegimePlan().config(regime_candidate(), ps, seed)
    where = None if output_dir is None else str(Path(output_dir) / "regime" / folder_name(arm_of(ps)))
    return config.replace(**{"output_dir": where, "eval_every": REGIME_EVAL_EVERY, **changes})


def comparison_rows(baseline: dict, with_ps: dict, budget: str = "") -> list[dict]:
    """The comparison table as the demo prints and writes it: one row per metric of `RUN_METRICS` with the baseline's
    and the PS run's value and the difference, in percent (points for the difference)."""
    rows = [{"metric": m, BASELINE: 100 * baseline[m], WITH_PS: 100 * with_ps[m],
             "difference": 100 * (with_ps[m] - baseline[m])} for m in RUN_METRICS if m in baseline and m in with_ps]
    return [{"budget": budget, **row} for row in rows] if budget else rows


def format_table(rows: list[dict], title: str = "unseen classes (%)") -> str:
    """`comparison_rows` as fixed-width text under ``title``."""
    lines = [f"{title:<20}{BASELINE:>10}{WITH_PS:>10}{'diff':>8}"]
    lines += [f"{r['metric']:<20}{r[BASELINE]:>10.2f}{r[WITH_PS]:>10.2f}{r['difference']:>+8.2f}" for r in rows]
    return "\n".join(lines)


def format_measures(measures: dict) -> str:
    """The mechanism measures of both arms, one line each (shares in percent)."""
    lines = [f"{'mechanism measures':<64}" + "".join(f"{arm:>10}" for arm, _ in ARMS)]
    for key, label in MEASURE_NAMES.items():
        if all(key in measures[arm] for arm in measures):
            scale, unit = (100.0, " (%)") if key in PERCENT_MEASURES else (1.0, "")
            lines.append(f"{label + unit:<64}" + "".join(f"{scale * measures[arm][key]:>10.2f}" for arm in measures))
    return "\n".join(lines)


def summary_line(rows: list[dict], where: str = "here", note: str = "one seed") -> str:
    """One line saying which way PS went on Recall@1 and MAP@R, with the size of each difference."""
    by = {r["metric"]: r for r in rows}
    r1, mapr = by["recall@1"]["difference"], by["map@r"]["difference"]
    verdict = "helped" if r1 > 0 and mapr > 0 else "hurt" if r1 < 0 and mapr < 0 else "was mixed"
    return (f"Proxy Synthesis {verdict} {where}: Recall@1 {r1:+.2f} and MAP@R {mapr:+.2f} points on the unseen "
            f"classes ({note}).")


def _announce(configs: dict) -> None:
    for name, config in configs.items():
        print(f"[{name}] {config.loss} on {config.dataset}, {config.model}, {config.epochs} epochs, seed "
              f"{config.seed} -> {config.output_dir}", flush=True)


def train_arms(configs: dict, progress: bool, workers: int = DEMO_WORKERS, measures: bool = False):
    """Train each named config afresh in its folder: side by side in ``workers`` processes, or (1) one after the
    other in this process. Returns (name -> `FitResult`, name -> `mechanism_measures` or None); the results are
    the same bits either way (`psviz.train.fit_in_workers`)."""
    if workers > 1:
        _announce(configs)
        finished = fit_in_workers(configs, workers=workers, measures=configs if measures else (), progress=progress)
        print("  done in " + ", ".join(f"{f.seconds:.0f} s ({name})" for name, f in finished.items()), flush=True)
        return ({name: f.result for name, f in finished.items()},
                {name: f.measures for name, f in finished.items()} if measures else None)
    runs = {}
    for name, config in configs.items():
        _announce({name: config})
        started = time.perf_counter()
        runs[name] = fit(config, progress=progress, overwrite=True)  # the demo's own folders: redo
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return runs, ({name: mechanism_measures(run, seed=run.config.seed) for name, run in runs.items()}
                  if measures else None)


def write_figures(runs: dict, output_dir: Path, seed: int = 0, umap_points: int = 2000,
                  measures: dict | None = None, explorer_classes: int | None = None) -> list[Path]:
    """The report's figures for a glyphs pair (decision regions and landscapes come from a toy pair), and the
    embedding explorer of ``explorer_classes`` classes a split (default `EXPLORER_CLASSES`; 0: none)."""
    from .viz.explore import explorer
    from .viz.report import write_report

    print("\ndrawing figures (decision regions and confidence landscapes: two toy runs, a few seconds)…", flush=True)
    toy = {name: fit(preset("toy", ps=ps, seed=seed), progress=False) for name, ps in ARMS}
    written = write_report(runs, output_dir, boundary_runs=toy, umap_points=umap_points, seed=seed,
                           measures=measures)
    print(f"wrote {', '.join(p.name for p in written if p.suffix == '.html')} (and .png) in {output_dir}")
    classes = EXPLORER_CLASSES if explorer_classes is None else explorer_classes
    if classes == 0:
        return written
    print(f"building the embedding explorer ({classes} seen and {classes} unseen classes)…", flush=True)
    written.append(explorer(runs, max_classes=classes, seed=seed).save(output_dir / "explorer.html"))
    print(f"wrote {written[-1]}: open it in a browser (offline) to hover, select and search the two runs' maps")
    return written


def run(output_dir: Path = Path("psviz-output/demo"), epochs: int | None = None, seed: int = 0,
        progress: bool = True, figures: bool = True, umap_points: int = 2000, regime: bool = True,
        regime_epochs: int | None = None, explorer_classes: int | None = None, workers: int = DEMO_WORKERS,
        **changes) -> list[dict]:
    """Train both budgets, print and write the comparison (table.csv, table.md, summary.json) and the figures.
    ``workers``: 2 trains each pair side by side in two processes, 1 one run after the other here (same results)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    output_dir = Path(output_dir)
    short_name = f"short budget ({DEMO_EPOCHS if epochs is None else epochs} epochs, small CNN)"
    print(f"== 1. {short_name}", flush=True)
    # with the regime, the figures show the regime's runs: the short ones need only their final evaluation
    short_changes = {"eval_every": DEMO_EPOCHS if epochs is None else epochs, **changes} if regime else changes
    short, _ = train_arms({n: demo_config(ps, output_dir, epochs, seed, **short_changes) for n, ps in ARMS},
                          progress, workers)
    rows = comparison_rows(short[BASELINE].last_metrics(), short[WITH_PS].last_metrics(), "short")
    lines = [format_table(rows, "short budget"), summary_line(rows, "at the short budget")]
    print("\n" + "\n\n".join(lines) + "\n", flush=True)
    runs, measures = short, None
    if regime:
        candidate = regime_candidate()
        print(f"== 2. overfitting regime '{candidate.name}': {candidate.note} (chosen on the baseline alone by "
              f"psviz reproduce)", flush=True)
        shorter = {} if regime_epochs is None else {"epochs": regime_epochs,
                                                     "eval_every": min(REGIME_EVAL_EVERY, regime_epochs)}
        runs, measures = train_arms({n: regime_config(ps, output_dir, seed, **shorter) for n, ps in ARMS}, progress,
                                    workers, measures=True)
        regime_rows = comparison_rows(runs[BASELINE].last_metrics(), runs[WITH_PS].last_metrics(), "regime")
        block = [format_table(regime_rows, "overfitting regime"), format_measures(measures),
                 summary_line(regime_rows, "in the overfitting regime", RESULTS_NOTE)]
        print("\n" + "\n\n".join(block), flush=True)
        rows += regime_rows
        lines += block
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / "table.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (output_dir / "table.md").write_text("\n\n".join(lines) + "\n")
    (output_dir / "summary.json").write_text(json.dumps(
        {"rows": rows, "summary": [line for line in lines if line.startswith("Proxy Synthesis")],
         "measures": measures}, indent=1))
    print(f"\nwrote {output_dir / 'table.csv'}, {output_dir / 'table.md'} and the runs' folders")
    if figures:
        started = time.perf_counter()
        write_figures(runs, output_dir, seed, umap_points, measures, explorer_classes)
        print(f"  figures done in {time.perf_counter() - started:.0f} s; open the .html files in a browser")
    return rows
