"""`psviz demo`: Norm-SoftMax with and without Proxy Synthesis on the embedded glyphs data, compared on unseen classes."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from .train import fit, preset

METRICS = ["recall@1", "recall@2", "recall@4", "recall@8", "r_precision", "map@r"]


DEMO_EPOCHS = 6  # about 80 s a run on 2 CPU cores, so the whole demo fits in about 5 minutes


def demo_config(ps: bool, output_dir: Path, epochs: int | None = None, seed: int = 0, **changes):
    """The demo's run: the glyphs preset (small CNN, 64-d, Norm-SoftMax), identical budget with and without PS,
    evaluated three times (for the training curves)."""
    epochs = DEMO_EPOCHS if epochs is None else epochs
    return preset("glyphs", ps=ps, seed=seed, epochs=epochs, eval_every=max(1, epochs // 3),
                  output_dir=str(Path(output_dir) / ("with_ps" if ps else "baseline")), **changes)


def comparison_rows(baseline: dict, with_ps: dict) -> list[dict]:
    """One row per metric: baseline, with PS and the difference (percentage points)."""
    return [{"metric": m, "baseline": 100 * baseline[m], "with_ps": 100 * with_ps[m],
             "difference": 100 * (with_ps[m] - baseline[m])} for m in METRICS if m in baseline and m in with_ps]


def format_table(rows: list[dict]) -> str:
    lines = [f"{'unseen classes (%)':<20}{'baseline':>10}{'with PS':>10}{'diff':>8}"]
    lines += [f"{r['metric']:<20}{r['baseline']:>10.2f}{r['with_ps']:>10.2f}{r['difference']:>+8.2f}" for r in rows]
    return "\n".join(lines)


def summary_line(rows: list[dict]) -> str:
    by = {r["metric"]: r for r in rows}
    r1, mapr = by["recall@1"]["difference"], by["map@r"]["difference"]
    verdict = "helped" if r1 > 0 and mapr > 0 else "hurt" if r1 < 0 and mapr < 0 else "was mixed"
    return (f"Proxy Synthesis {verdict} here: Recall@1 {r1:+.2f} and MAP@R {mapr:+.2f} points on the unseen classes "
            f"(one seed and a short budget: see the README for longer runs).")


def write_figures(results: dict, output_dir: Path, seed: int = 0, umap_points: int = 2000) -> list[Path]:
    """The report's figures for the two glyphs runs; decision regions come from a toy pair with 2-D embeddings."""
    from .viz.report import write_report

    print("\ndrawing figures (decision regions: two toy runs with 2-D embeddings, a few seconds)…", flush=True)
    toy = {name: fit(preset("toy", ps=ps, seed=seed), progress=False)
           for name, ps in (("baseline", False), ("with PS", True))}
    written = write_report({"baseline": results[False], "with PS": results[True]}, output_dir, boundary_runs=toy,
                           umap_points=umap_points, seed=seed)
    print("wrote " + ", ".join(p.name for p in written if p.suffix == ".html") + f" (and .png) in {output_dir}")
    return written


def run(output_dir: Path = Path("psviz-output/demo"), epochs: int | None = None, seed: int = 0,
        progress: bool = True, figures: bool = True, umap_points: int = 2000, **changes) -> list[dict]:
    """Train both runs, print and write the comparison table (table.csv, table.md, summary.json) and the figures."""
    output_dir = Path(output_dir)
    results = {}
    for ps in (False, True):
        config = demo_config(ps, output_dir, epochs, seed, **changes)
        print(f"[{'with PS' if ps else 'baseline'}] {config.loss} on {config.dataset}, {config.epochs} epochs, "
              f"seed {seed} -> {config.output_dir}", flush=True)
        started = time.perf_counter()
        results[ps] = fit(config, progress=progress)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    rows = comparison_rows(results[False].last_metrics(), results[True].last_metrics())
    table = format_table(rows)
    line = summary_line(rows)
    print("\n" + table + "\n\n" + line)
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / "table.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (output_dir / "table.md").write_text(table + "\n\n" + line + "\n")
    (output_dir / "summary.json").write_text(json.dumps({"rows": rows, "summary": line}, indent=1))
    print(f"\nwrote {output_dir / 'table.csv'}, {output_dir / 'table.md'} and the two runs' folders")
    if figures:
        started = time.perf_counter()
        write_figures(results, output_dir, seed, umap_points)
        print(f"  figures done in {time.perf_counter() - started:.0f} s; open the .html files in a browser")
    return rows
