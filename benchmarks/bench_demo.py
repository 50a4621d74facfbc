"""`psviz demo` in fresh processes: the demo's wall time, the install excluded, on a fresh machine and on later runs.

Each case is a new `psviz demo` process writing to its own folder, one after the other:

1. before (only with ``--before REF``): the demo of that commit, checked out in a temporary git worktree and run from
   there with this machine's usual caches: the demo as it was;
2. first demo on a fresh machine: an empty numba cache (``NUMBA_CACHE_DIR`` a new folder, so umap's and pynndescent's
   code compiles in the run) and an empty psviz data cache (``PSVIZ_CACHE`` a new folder, so the glyphs dataset is
   built inside the timed run);
3. later demos: the same two caches again, now warm.

Every case trains everything afresh (its toy records, in <folder>/toy/runs, included), as each has its own folder.
It prints each wall time, the ratio to the first case, whether the cases wrote the same tables (summary.json,
table.csv), explorer.html and PNG figures byte for byte, and from each case's demo.log how many times the glyphs
dataset was built (1 on the fresh machine, however many workers start together; 0 later) and the demo's own
"done in N s". On a quiet machine:

    python benchmarks/bench_demo.py                  # the full demo twice: about 1.5 to 3 minutes a case on 2 cores
    python benchmarks/bench_demo.py --before 1132e62 # and that commit's demo first
    python benchmarks/bench_demo.py --quick          # 2 toy seeds, 1 glyphs epoch, a 20-class explorer: a smoke run

With ``--quick`` and ``--before``, that commit's demo gets the quick options it has (and ``--regime-epochs 4``
where it still trains the regime pair).
``--keep DIR`` keeps the cases' folders, logs and caches in DIR (a temporary folder otherwise, printed at the end).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("summary.json", "table.csv", "explorer.html")
QUICK = ["--seeds", "2", "--epochs", "1", "--explorer-classes", "20"]
QUICK_BEFORE = ["--regime-epochs", "4"]  # with --before, for a demo that still trained the regime pair
BUILT = "built glyphs dataset"  # psviz.data.glyphs says so on stderr each time it builds the cache
DONE = re.compile(r"done in (\d+) s")  # the demo's last line


def _demo(output: Path, extra: list[str], env: dict, code: Path = ROOT) -> float:
    """One `psviz demo` in a new process running the psviz in ``code``; its wall time. stdout and stderr go to
    ``output``/demo.log."""
    command = [sys.executable, "-m", "psviz", "demo", "--output-dir", str(output.resolve()), "--no-progress", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, cwd=code)
    seconds = time.perf_counter() - started
    output.mkdir(parents=True, exist_ok=True)
    (output / "demo.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def _supported(flags: list[str], code: Path) -> list[str]:
    """``flags`` (option, value pairs) less the options the demo in ``code`` does not list in its --help."""
    helped = subprocess.run([sys.executable, "-m", "psviz", "demo", "--help"], capture_output=True, text=True,
                            cwd=code).stdout
    pairs = list(zip(flags[::2], flags[1::2]))
    listed = [option for option, _ in pairs if re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helped)]
    return [part for option, value in pairs if option in listed for part in (option, value)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "-"


def _outputs(folder: Path) -> dict:
    """Digests of the compared files and of every PNG figure the demo wrote."""
    names = [*COMPARED, *sorted(p.name for p in folder.glob("*.png"))]
    return {name: _digest(folder / name) for name in names}


def _log(folder: Path) -> tuple[int, str]:
    """From ``folder``/demo.log: how many times the glyphs dataset was built, and the demo's "done in N s"."""
    text = (folder / "demo.log").read_text()
    found = DONE.findall(text)
    return text.count(BUILT), f"{found[-1]} s" if found else "-"


def _worktree(ref: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref], check=True,
                   capture_output=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 toy seeds, 1 glyphs epoch and a 20-class explorer")
    parser.add_argument("--keep", type=Path, default=None, help="keep the cases' folders, logs and caches here")
    parser.add_argument("--before", default=None, help="a git commit whose demo is the first case (e.g. 1132e62)")
    args = parser.parse_args()
    extra = QUICK if args.quick else []
    work = Path(tempfile.mkdtemp(prefix="bench_demo_")) if args.keep is None else args.keep
    numba_cache, data_cache = work / "numba-cache", work / "psviz-cache"
    for cache in (numba_cache, data_cache):
        if cache.exists() and any(cache.iterdir()):
            sys.exit(f"{cache} is not empty: --keep needs a new folder (the first-demo case needs empty caches)")
        cache.mkdir(parents=True, exist_ok=True)
    caches = {"NUMBA_CACHE_DIR": str(numba_cache), "PSVIZ_CACHE": str(data_cache)}
    cases = [("first demo on a fresh machine (empty caches)", "fresh", extra, caches, ROOT, 1),
             ("later demos (warm caches)", "later", extra, caches, ROOT, 0)]
    try:
        if args.before:
            code = _worktree(args.before, work / "code")
            flags = _supported(extra + (QUICK_BEFORE if args.quick else []), code)
            cases.insert(0, (f"before ({args.before})", "before", flags, {}, code, None))
        times, outputs, logs = {}, {}, {}
        for label, folder, flags, env, code, _ in cases:
            print(f"running: {label} ...", flush=True)
            times[label] = _demo(work / folder, flags, env, code)
            outputs[label] = _outputs(work / folder)
            logs[label] = _log(work / folder)
            print(f"  {times[label]:.1f} s", flush=True)
    finally:
        if args.before:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work / "code")])
    _report(times, outputs, logs)
    for label, *_, builds in cases:
        if builds is not None and logs[label][0] != builds:
            print(f"\nUNEXPECTED: {label} built the glyphs dataset {logs[label][0]} times, not {builds}")
    print(f"\nfolders, logs and caches: {work}")


def _report(times: dict, outputs: dict, logs: dict) -> None:
    labels = list(times)
    reference = outputs[labels[0]]
    print("\n| demo | wall (s) | ratio to the first | files equal to the first's | glyphs builds | demo's own time |"
          "\n|---|---|---|---|---|---|")
    for label in labels:
        differ = [name for name in reference if outputs[label].get(name) != reference[name]]
        differ += [name for name in outputs[label] if name not in reference]
        same = f"all {len(reference)}" if not differ else f"NOT: {', '.join(differ)}"
        builds, done = logs[label]
        print(f"| {label} | {times[label]:.1f} | {times[label] / times[labels[0]]:.2f} | {same} | {builds} | "
              f"{done} |")


if __name__ == "__main__":
    main()
