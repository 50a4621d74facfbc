"""Run a list of jobs in worker processes, storing each finished run as a JSON record; stored runs are skipped."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import replace
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm.auto import tqdm

from ...base.percent import percent
from ...train import TrainConfig, fit, mechanism_measures
from ...train.records import RecordStore, run_key, run_record
from ...train.signals import leave_terminal_group, sigint_held
from .jobs import Job


def _init_worker(threads: int) -> None:
    import torch

    leave_terminal_group()  # Ctrl-C reaches the parent only, which ends the workers (no traceback from each)
    torch.set_num_threads(threads)


def train_one(config_values: dict, directory: str, measures: bool = False) -> dict:
    """Train one config (no checkpoints: a run is short, and an unfinished one is simply redone) and store it,
    with its mechanism measures when asked (`psviz.train.mechanism_measures`, seconds not counted in the run's)."""
    config = TrainConfig.from_dict(config_values)
    started = time.perf_counter()
    result = fit(config.replace(output_dir=None), progress=False)
    if result.interrupted:
        raise KeyboardInterrupt
    extra = {"seconds": time.perf_counter() - started}
    if measures:
        extra["measures"] = mechanism_measures(result, seed=config.seed)
    record = run_record(config, result.history, **extra)
    RecordStore(directory).write(config, record)
    return record


def _stored(store: RecordStore, job: Job) -> bool:
    record = store.read(job.config)
    return record is not None and (not job.measures or "measures" in record)


def unique(jobs: list[Job]) -> list[Job]:
    """Jobs with distinct configs (the ablation's baseline is also the small table's), first occurrence kept."""
    first: dict[str, Job] = {}
    for job in jobs:
        key = run_key(job.config)
        if key not in first:
            first[key] = job
        elif job.measures and not first[key].measures:  # one run serves both: keep the measures
            first[key] = replace(first[key], measures=True)
    return list(first.values())


def run_jobs(jobs: list[Job], directory: str | Path, *, workers: int | None = None, threads: int = 1,
             progress: bool = True) -> dict:
    """Train every job not yet in ``directory``; returns counts {"done", "skipped", "failed"}.

    ``workers`` processes (default: one per CPU core) each use ``threads`` torch threads. Ctrl-C stops the pool:
    finished runs are already stored, the ones in flight are dropped and redone next time.
    """
    store = RecordStore(directory)
    distinct = unique(jobs)
    todo = [job for job in distinct if not _stored(store, job)]
    counts = {"done": 0, "skipped": len(distinct) - len(todo), "failed": 0}
    if not todo:
        return counts
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress)
    if counts["skipped"]:
        bar.write(f"{counts['skipped']} runs already stored in {directory}: not redone")
    others = set(multiprocessing.active_children())  # children that are not the pool's workers
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                               initargs=(threads,))
    pending: dict[Future, Job] = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < workers:
                job = queue.pop(0)
                with sigint_held():  # a worker may start here
                    pending[pool.submit(train_one, job.config.to_dict(), str(directory), job.measures)] = job
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    raise RuntimeError(f"a worker process died while training ({job.label}), perhaps out of memory; "
                                       f"{counts['done']} runs were stored in {directory}, and the same command "
                                       f"continues (try fewer --workers)") from error
                if error is not None:
                    counts["failed"] += 1
                    bar.write(f"FAILED {job.label}: {type(error).__name__}: {error}")
                else:
                    counts["done"] += 1
                    metrics = future.result()["metrics"]
                    bar.set_postfix_str(f"last: {job.label} MAP@R {percent(metrics.get('map@r', float('nan'))):.2f}")
                bar.update(1)
    except KeyboardInterrupt:
        bar.write(f"interrupted: {counts['done']} runs finished and stored in {directory}; "
                  f"the same command continues where this stopped")
        pool.shutdown(wait=False, cancel_futures=True)
        for process in set(multiprocessing.active_children()) - others:  # the workers still training
            process.terminate()
        raise
    finally:
        bar.close()
    pool.shutdown()
    return counts


__all__ = ["run_jobs", "train_one", "unique"]
