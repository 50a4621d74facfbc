"""Train several runs at once, each in a worker process that writes its own run folder (the demo's two arms).

Each worker uses as many torch threads as the calling process, so a run gives the same bits as `fit` would here:
torch's CPU kernels split their sums by thread count, and a run at 1 thread differs from one at 2 in the last digits.
The workers' idle OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE``, unless set already): two processes
whose idle threads spin on the same cores ran each run 2.8 times slower (benchmarks/README.md, bench_demo.py).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ..base.percent import percent
from .config import TrainConfig
from .loop import FitResult, fit
from .mechanism import mechanism_measures
from .reopen import load_run
from .signals import Interrupted, leave_terminal_group, sigint_held

_REPORTS = None  # in a worker: the queue its runs report their epochs to
_STOPPING = False  # in a worker: the parent asked it to stop while it started


@dataclass
class FinishedRun:
    """One run trained in a worker: reopened from its folder (the last checkpoint: the final weights), with the
    seconds it took and, when asked, its `mechanism_measures`."""

    result: FitResult
    seconds: float
    measures: dict | None = None


def _init_worker(threads: int, reports) -> None:
    global _REPORTS, _STOPPING
    _STOPPING = leave_terminal_group()  # one Ctrl-C reaches the worker once, from the parent (`_stop`)
    torch.set_num_threads(threads)
    _REPORTS = reports
    atexit.register(_end_without_teardown)


def _end_without_teardown() -> None:
    """A worker's last step, the first of its exit handlers (registered last): end the process without Python's
    teardown of torch and the data, which takes seconds (and would keep a stopping parent waiting). Nothing is lost:
    its runs are saved, and multiprocessing has sent its results and reports before exit handlers run."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _fit_in_worker(name: str, config_values: dict, measures: bool) -> dict:
    """Train one run into its folder (afresh), telling the parent after each epoch; its measures when asked."""
    if _STOPPING:  # nothing trained yet, nothing to save
        raise Interrupted(signal.SIGINT)
    config = TrainConfig.from_dict(config_values)

    def report(epoch, history, **_):
        _REPORTS.put((name, epoch, history[-1].get("loss"), history[-1].get("unseen/map@r")))

    started = time.perf_counter()
    result = fit(config, callbacks=[report], progress=False, overwrite=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "measures": mechanism_measures(result, seed=config.seed) if measures else None}


@contextmanager
def _passive_openmp():
    """OMP_WAIT_POLICY=PASSIVE in the environment the workers start with (this process's OpenMP is already set)."""
    before = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OMP_WAIT_POLICY", None)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops the parent as Ctrl-C does (the workers get their own SIGTERM or SIGINT and save)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check(configs: dict, workers: int, measures) -> None:
    if not configs:
        raise ValueError("fit_in_workers needs at least one config")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    missing = [name for name, config in configs.items() if not config.output_dir]
    if missing:
        raise ValueError(f"runs trained in workers need output_dir (their folder), missing for: {', '.join(missing)}")
    unknown = set(measures) - set(configs)
    if unknown:
        raise ValueError(f"measures names runs that are not in configs: {', '.join(sorted(unknown))}")


def fit_in_workers(configs: dict[str, TrainConfig], *, workers: int = 2, threads: int | None = None,
                   measures=(), progress: bool = True) -> dict[str, FinishedRun]:
    """Train every named config afresh in its ``output_dir``, ``workers`` at a time in worker processes.

    ``threads``: torch threads per worker (default: this process's count, which gives the same results as `fit`
    here). ``measures``: names of runs whose `mechanism_measures` the worker computes too. One progress bar per run
    moves by epoch. Ctrl-C or SIGTERM stop the workers, which save their runs' last checkpoints as `fit` does.
    """
    _check(configs, workers, measures)
    threads = torch.get_num_threads() if threads is None else threads
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    bars = {name: tqdm(total=config.epochs, desc=name, unit="epoch", position=i, leave=True, disable=not progress)
            for i, (name, config) in enumerate(configs.items())}
    with _passive_openmp(), _sigterm_as_interrupt():
        pool = ProcessPoolExecutor(min(workers, len(configs)), mp_context=context, initializer=_init_worker,
                                   initargs=(threads, reports))
        futures = {}
        try:
            with sigint_held():  # the workers start here
                futures = {pool.submit(_fit_in_worker, name, config.to_dict(), name in measures): name
                           for name, config in configs.items()}
            done = _collect(futures, reports, bars)
        except BaseException:
            _stop(pool, futures)
            raise
        finally:
            for bar in bars.values():
                bar.close()
        pool.shutdown()
    return {name: FinishedRun(load_run(configs[name].output_dir, "last"), **done[name]) for name in configs}


def _collect(futures: dict[Future, str], reports, bars: dict) -> dict[str, dict]:
    """Each run's result as its worker finishes, moving the bars meanwhile; a failed run raises, naming the run."""
    pending, done = dict(futures), {}
    while pending:
        finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        _drain(reports, bars)
        for future in finished:
            name = pending.pop(future)
            error = future.exception()
            if error is not None:
                raise RuntimeError(f"run {name!r} failed in its worker: {type(error).__name__}: {error}") from error
            done[name] = future.result()
    _drain(reports, bars)
    return done


def _drain(reports, bars: dict) -> None:
    while True:
        try:
            name, epoch, loss, map_r = reports.get_nowait()
        except queue.Empty:
            return
        bar = bars[name]
        bar.update(epoch - bar.n)
        bar.set_postfix_str(f"loss {loss:.3f}" + ("" if map_r is None else f", unseen MAP@R {percent(map_r):.2f}"))


def _stop(pool: ProcessPoolExecutor, futures) -> None:
    """Ask each worker once to stop, wait until each has answered and ended, then end the pool. The request is a
    SIGTERM: a worker in its run stops after the step and saves it, as on Ctrl-C (a second signal would stop it
    unsaved); one still starting (importing torch, seconds) ends at once, with nothing to save. A second Ctrl-C while
    waiting ends the workers at once (they are out of the terminal's group: nothing else would)."""
    processes = list(getattr(pool, "_processes", {}).values())  # the executor keeps no public list of its workers
    for process in processes:
        if process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
    pool.shutdown(wait=False, cancel_futures=True)
    try:
        wait(futures, timeout=60)
        for process in processes:
            process.join(timeout=10)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()


__all__ = ["FinishedRun", "fit_in_workers"]
