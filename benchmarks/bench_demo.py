"""`psviz demo` in fresh processes: today's sequential path against the two-worker path, in one run.

Three demos, one after the other, each a new `psviz demo` process writing to its own folder:

1. before: with ``--before REF``, the demo of that commit (checked out in a temporary git worktree and run from
   there): the demo as it was. Without it, this code's ``--workers 1`` with ``PSVIZ_NUMBA_CACHE=0`` (the arms one
   after the other in one process, umap compiling its numba code in the process);
2. workers, cold cache: the default ``--workers 2`` with an empty numba cache (``NUMBA_CACHE_DIR`` a new folder, so
   pynndescent's cache is cold too): the first demo on a machine;
3. workers, warm cache: the same again, with the cache the second run filled: every later demo.

It prints each wall time, the ratios to the first, and whether the three wrote the same tables and measures
(summary.json, table.csv), the same explorer.html and the same PNG figures, byte for byte. On a quiet machine:

    python benchmarks/bench_demo.py --before 1132e62   # the full demo three times: about 20 minutes on 2 cores
    python benchmarks/bench_demo.py --quick            # 1 + 4 epochs and a 20-class explorer: a smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("summary.json", "table.csv", "explorer.html")


def _demo(output: Path, extra: list[str], env: dict, code: Path = ROOT) -> float:
    """One `psviz demo` in a new process running the psviz in ``code``; its wall time."""
    command = [sys.executable, "-m", "psviz", "demo", "--output-dir", str(output.resolve()), "--no-progress", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, cwd=code)
    seconds = time.perf_counter() - started
    (output / "demo.log").parent.mkdir(parents=True, exist_ok=True)
    (output / "demo.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "-"


def _outputs(folder: Path) -> dict:
    """Digests of the compared files and of every PNG figure the demo wrote."""
    names = [*COMPARED, *sorted(p.name for p in folder.glob("*.png"))]
    return {name: _digest(folder / name) for name in names}


def _worktree(ref: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref], check=True,
                   capture_output=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 + 4 epochs and a 20-class explorer")
    parser.add_argument("--keep", type=Path, default=None, help="keep the three demos' folders here")
    parser.add_argument("--before", default=None, help="a git commit whose demo is the first case (e.g. 1132e62)")
    args = parser.parse_args()
    extra = ["--epochs", "1", "--regime-epochs", "4", "--explorer-classes", "20"] if args.quick else []
    work = Path(tempfile.mkdtemp(prefix="bench_demo_")) if args.keep is None else args.keep
    numba_cache = work / "numba-cache"
    numba_cache.mkdir(parents=True, exist_ok=True)
    if args.before:
        first = (f"before ({args.before}, sequential)", "before", [], {}, _worktree(args.before, work / "code"))
    else:
        first = ("sequential (--workers 1, no numba cache)", "before", ["--workers", "1"], {"PSVIZ_NUMBA_CACHE": "0"},
                 ROOT)
    cases = [first, ("2 workers, cold numba cache", "cold", [], {"NUMBA_CACHE_DIR": str(numba_cache)}, ROOT),
             ("2 workers, warm numba cache", "warm", [], {"NUMBA_CACHE_DIR": str(numba_cache)}, ROOT)]
    times, outputs = {}, {}
    try:
        for label, folder, flags, env, code in cases:
            print(f"running: {label} ...", flush=True)
            times[label] = _demo(work / folder, extra + flags, env, code)
            outputs[label] = _outputs(work / folder)
            print(f"  {times[label]:.1f} s", flush=True)
    finally:
        if args.before:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work / "code")])
    _report(times, outputs)
    print(f"\nfolders and logs: {work}")


def _report(times: dict, outputs: dict) -> None:
    labels = list(times)
    reference = outputs[labels[0]]
    print("\n| demo | wall (s) | ratio to the first | files equal to the first's |\n|---|---|---|---|")
    for label in labels:
        differ = [name for name in reference if outputs[label].get(name) != reference[name]]
        same = f"all {len(reference)}" if not differ else f"NOT: {', '.join(differ)}"
        print(f"| {label} | {times[label]:.1f} | {times[label] / times[labels[0]]:.2f} | {same} |")


if __name__ == "__main__":
    main()
