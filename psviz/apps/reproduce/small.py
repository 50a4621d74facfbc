"""The small-data reproduction end to end: train what is not stored yet, then write the CSVs, figures and Markdown."""

from __future__ import annotations

import time
from pathlib import Path

from ...train.records import RecordStore
from .plan import STAGED_PARTS, Plan
from .regime import select
from .report import SmallResults, results_store, write_report
from .runner import run_jobs, unique

PARTS = ("curves", "small", "ablation", "sweep", "regime")  # the default: about an hour on 2 cores
# the pre-registered studies (docs/PREREGISTRATION.md), trained on request: hours on 2 cores
STUDY_PARTS = ("effect-pilot", "effect-map", "pretrained-pilot", "pretrained")


def reproduce_small(plan: Plan | None = None, *, parts=PARTS, results_dir: str | Path = "results/small",
                    doc: str | Path = "docs/RESULTS.md", images: str | Path = "docs/images", workers: int | None = None,
                    threads: int = 1, train: bool = True, progress: bool = True,
                    command: str = "psviz reproduce") -> SmallResults:
    """Run ``parts`` of ``plan`` (default: the full small plan), resuming from the stored runs, and write the report.

    The report always covers the whole plan; parts not run yet show as missing there.
    """
    plan = plan or Plan()
    started = time.perf_counter()
    if train:
        missing = unavailable(plan)
        for name, reason in missing.items():
            print(f"skipping {name}: {reason}", flush=True)
        store = results_store(Path(results_dir))
        fixed = tuple(p for p in parts if p not in STAGED_PARTS)
        jobs = [job for job in plan.jobs(fixed) if job.config.dataset not in missing]
        counts = run_jobs(jobs, store, workers=workers, threads=threads, progress=progress)
        staged = [job for job in staged_jobs(plan, parts, RecordStore(store).read) if job.config.dataset not in missing]
        if staged:
            more = run_jobs(staged, store, workers=workers, threads=threads, progress=progress)
            done, failed = counts["done"] + more["done"], counts["failed"] + more["failed"]
            # a sweep baseline is also a regime baseline: count each distinct run once
            counts = {"done": done, "failed": failed, "skipped": len(unique(jobs + staged)) - done - failed}
        print(f"runs: {counts['done']} trained, {counts['skipped']} already stored, {counts['failed']} failed "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    results = write_report(plan, results_dir=results_dir, doc=doc, images=images, command=command)
    missing = results.planned - results.stored
    print(f"wrote {doc} and {results_dir}/*.csv" + (f"; {missing} planned runs still missing" if missing else ""))
    return results


def staged_jobs(plan: Plan, parts, read) -> list:
    """The runs of the staged ``parts``, chosen from their earlier stage's stored baseline runs (``read(config)``
    returns a record or None): the regime from the sweep, the effect map's lengths from its pilot."""
    jobs = []
    if "regime" in parts:
        chosen = {}
        for dataset, found in select(plan.regime, read).items():
            chosen[dataset] = found.chosen
            what = (f"chose '{found.chosen.name}' ({found.why})" if found.chosen is not None else
                    "no candidate overfits" if found.complete else "sweep incomplete: run --parts sweep first")
            print(f"regime on {dataset}: {what} ({len(found.verdicts)} candidates judged)", flush=True)
        jobs += plan.regime.regime_jobs(chosen)
    if "effect-map" in parts:
        lengths = plan.effect_map.long_lengths(read)
        waiting = [level.name for level in plan.effect_map.levels if level.name not in lengths]
        print(f"effect map: long lengths by rule L {lengths}"
              + (f"; pilot incomplete for {waiting}: run --parts effect-pilot first" if waiting else ""), flush=True)
        jobs += plan.effect_map.map_jobs(lengths)
    if "pretrained" in parts:
        choice = plan.pretrained.choose(read)
        print("pretrained: " + (f"rule P chose lr {choice.lr:g}, {choice.epochs} epochs" if choice is not None else
                                "pilot incomplete: run --parts pretrained-pilot first"), flush=True)
        jobs += plan.pretrained.jobs(choice) if choice is not None else []
    return jobs


def unavailable(plan: Plan) -> dict[str, str]:
    """Datasets of ``plan`` that cannot be loaded here (Fashion-MNIST without its files, say), with the reason."""
    from ... import data

    found = {}
    for name, budget in plan.budgets.items():
        try:
            data.load(name, "seen", **budget.get("dataset_options", {}))
        except ValueError as error:
            found[name] = str(error)
    return found


__all__ = ["PARTS", "STUDY_PARTS", "reproduce_small", "staged_jobs", "unavailable"]
