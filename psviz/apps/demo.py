"""`psviz demo`: Norm-SoftMax without and with Proxy Synthesis on embedded data, in about three minutes on 2 cores.

1. The verdict: the teaching toy (8 seen classes on the sphere, chosen by rule T of docs/PREREGISTRATION.md on the
   baseline alone) over 10 seeds. These are the runs of one effect-map cell, so the stored records can confirm them.
2. One glyphs pair (1,418 seen classes, an MLP, 5 epochs: the small table's setting) for what a toy cannot show: the
   seen-versus-unseen map, the retrieval gallery and the explorer. Its interval over seeds comes from stored records.
3. ``index.html``: the tables and every figure on one offline page.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import time
from pathlib import Path

from ..analysis import Comparison, format_interval_table, format_table, interval_line, paired_rows, summary_line
from ..base.names import ARMS, arm_of, folder_name
from ..train import fit, fit_in_workers, preset
from .reproduce.stored import STORED_RUNS, stored_glyphs_rows, stored_toy_line, toy_cell

DEMO_WORKERS = 2  # runs train side by side, one process each
GLYPHS_EPOCHS = 5  # the small table's glyphs budget (psviz.apps.reproduce.plan.SMALL_BUDGETS)
EXPLORER_CLASSES = 150  # characters a split in explorer.html, with all their images (UMAP of ~3,400 items a run)


# --- the verdict over seeds ---------------------------------------------------------------------------------------

def train_toy_verdict(output_dir: Path, seeds: int, workers: int, progress: bool) -> list[dict]:
    """Train both arms of `toy_cell` for the first ``seeds`` seeds (1 torch thread a run, as the effect map's records
    were made) into ``output_dir``/toy/runs, skipping runs stored there; the `paired_rows` of what is stored."""
    from ..train.records import RecordStore
    from .reproduce.jobs import Job
    from .reproduce.runner import run_jobs

    plan, cell, long = toy_cell()
    chosen = cell.level.seeds[:seeds]
    jobs = [Job("demo", config) for seed in chosen for config in plan.cell_configs(cell, long, seed)]
    directory = output_dir / "toy" / "runs"
    counts = run_jobs(jobs, directory, workers=workers, threads=1, progress=progress)
    if counts["failed"]:
        raise RuntimeError(f"{counts['failed']} toy runs failed; see the messages above")
    read = RecordStore(directory).read
    pairs = [tuple(read(c)["metrics"] for c in plan.cell_configs(cell, long, seed)) for seed in chosen]
    return paired_rows(pairs, "toy")


# --- the glyphs pair ----------------------------------------------------------------------------------------------

def glyphs_config(ps: bool, output_dir: Path | None = None, seed: int = 0, epochs: int = GLYPHS_EPOCHS):
    """The small table's Norm-SoftMax glyphs run (an MLP on the images), evaluated every epoch for the curves (which
    changes nothing it learns), saved under ``output_dir``/glyphs/ when given."""
    from .reproduce.plan import Plan

    config = Plan().config("glyphs", "norm_softmax", ps, seed, epochs=epochs, eval_every=1)
    where = None if output_dir is None else str(Path(output_dir) / "glyphs" / folder_name(arm_of(ps)))
    return config.replace(output_dir=where)


def train_pair(configs: dict, progress: bool, workers: int = DEMO_WORKERS) -> dict:
    """Train each named config afresh in its folder: side by side in ``workers`` processes, or (1) one after the
    other here. Returns name -> `FitResult`; the same bits either way (`psviz.train.fit_in_workers`)."""
    for name, config in configs.items():
        print(f"[{name}] {config.loss} on {config.dataset}, {config.model}, {config.epochs} epochs, seed "
              f"{config.seed} -> {config.output_dir}", flush=True)
    if workers > 1:
        finished = fit_in_workers(configs, workers=workers, progress=progress)
        return {name: f.result for name, f in finished.items()}
    return {name: fit(config, progress=progress, overwrite=True) for name, config in configs.items()}


# --- figures and the page -----------------------------------------------------------------------------------------

def write_figures(runs: dict, toy_runs: dict, output_dir: Path, seed: int = 0, umap_points: int = 2000,
                  explorer_classes: int | None = None) -> list[Path]:
    """The report's figures for the glyphs pair (decision regions and landscapes from the toy pair), and the
    embedding explorer of ``explorer_classes`` classes a split (default `EXPLORER_CLASSES`; 0: none)."""
    from ..viz.explore import explorer
    from ..viz.pair_figures import write_pair_figures

    print("\ndrawing the figures…", flush=True)
    written = write_pair_figures(runs, output_dir, boundary_runs=toy_runs, umap_points=umap_points, seed=seed)
    classes = EXPLORER_CLASSES if explorer_classes is None else explorer_classes
    if classes:
        print(f"building the embedding explorer ({classes} seen and {classes} unseen classes)…", flush=True)
        written.append(explorer(runs, max_classes=classes, seed=seed).save(output_dir / "explorer.html"))
    return written


def _write_tables(output_dir: Path, rows: list[dict], lines: list[str], seeds: int) -> None:
    with open(output_dir / "table.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    (output_dir / "table.md").write_text("\n\n".join(lines) + "\n")
    (output_dir / "summary.json").write_text(json.dumps({"rows": rows, "summary": lines, "toy_seeds": seeds},
                                                        indent=1))


def _noting_interrupts(run):
    """``run``, with a note on the Ctrl-C (or SIGTERM) that stops it: what is kept, for the line `psviz demo` prints
    as it stops (the glyphs pair's workers save their last checkpoints as `fit` does)."""
    signature = inspect.signature(run)

    @functools.wraps(run)
    def noting(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except KeyboardInterrupt as stop:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            stored = Path(bound.arguments["output_dir"]) / "toy" / "runs"
            stop.note = (f"runs finished so far are kept, and the same command does not train the toy runs in "
                         f"{stored} again")
            raise

    return noting


@_noting_interrupts
def run(output_dir: Path = Path("psviz-output/demo"), seeds: int = 10, epochs: int = GLYPHS_EPOCHS, seed: int = 0,
        progress: bool = True, figures: bool = True, umap_points: int = 2000, explorer_classes: int | None = None,
        workers: int = DEMO_WORKERS, stored_runs: Path = STORED_RUNS) -> list[dict]:
    """Train the toy verdict over ``seeds`` seeds and one glyphs pair (``epochs``, ``seed``), print and write the
    tables (table.csv, table.md, summary.json), the figures and index.html; returns the table's rows."""
    plan, cell, long = toy_cell()
    if not 1 <= seeds <= len(cell.level.seeds):
        raise ValueError(f"seeds must be between 1 and {len(cell.level.seeds)}, got {seeds}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    started = time.perf_counter()
    output_dir = Path(output_dir)
    toy_title = (f"toy: {cell.level.classes} seen classes on the sphere, Norm-SoftMax, {long} epochs, "
                 f"{cell.synthetic} synthetic classes a batch (μ = {cell.mu:.3g})")
    print(f"== 1. The verdict over {seeds} seeds. {toy_title}", flush=True)
    rows = train_toy_verdict(output_dir, seeds, workers, progress)
    lines = [format_interval_table(rows, "toy (%)"), interval_line(rows, f"On the toy, over {seeds} seeds")]
    stored = stored_toy_line(stored_runs)
    if stored:
        lines.append(stored)
    print("\n" + "\n".join(lines) + "\n", flush=True)

    print(f"== 2. One glyphs pair for the pictures (1,418 seen classes, an MLP, {epochs} epochs, seed {seed})",
          flush=True)
    glyphs = Comparison(train_pair({n: glyphs_config(ps, output_dir, seed, epochs) for n, ps in ARMS}, progress,
                                   workers))
    glyph_rows = glyphs.rows()
    glyph_lines = [format_table(glyph_rows, "glyphs, seed " + str(seed)),
                   summary_line(glyph_rows, "on this glyphs pair", "one seed: an illustration, not a verdict")]
    stored_glyphs = stored_glyphs_rows(stored_runs) if epochs == GLYPHS_EPOCHS else None
    if stored_glyphs:
        glyph_lines.append(interval_line(stored_glyphs, "The stored runs of this setting (docs/RESULTS.md, "
                                                        "\"Glyphs\" table)"))
    print("\n" + "\n".join(glyph_lines), flush=True)

    output_dir.mkdir(parents=True, exist_ok=True)
    table = rows + [{"section": f"glyphs, seed {seed}", **r} for r in glyph_rows] + (stored_glyphs or [])
    _write_tables(output_dir, table, lines + glyph_lines, seeds)
    written = []
    if figures:
        print("\ntraining the toy pair the decision regions are drawn from (seed 0, a few seconds)…", flush=True)
        toy_runs = {name: fit(preset("toy", ps=ps, seed=seed, output_dir=str(output_dir / "toy" / folder_name(name))),
                              progress=False, overwrite=True) for name, ps in ARMS}
        written = write_figures(glyphs, toy_runs, output_dir, seed, umap_points, explorer_classes)
    from ..viz.page import write_demo_page

    page = write_demo_page(output_dir, toy_title=toy_title, toy_rows=rows, toy_lines=lines, glyph_rows=glyph_rows,
                           glyph_lines=glyph_lines, stored_glyph_rows=stored_glyphs, files=written)
    print(f"\ndone in {time.perf_counter() - started:.0f} s. Open {page.resolve()} in a browser (offline): the tables, "
          f"every figure and the explorer on one page.")
    return table
