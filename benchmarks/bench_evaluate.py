"""Benchmark psviz.evaluate.retrieval_metrics against the faiss exact-search floor, on SOP- and CUB-sized data.

    python benchmarks/bench_evaluate.py            # full run (about 4 minutes on 2 cores)
    python benchmarks/bench_evaluate.py --quick    # small smoke run (seconds)

The floor is faiss's exact inner-product kNN on the already-normalised data with the k the metrics need
(max(max K, max R) + 1 for the self-match): the least any exact method must do. The psviz time is the whole
``retrieval_metrics`` call on the raw embeddings (checks, normalisation, search, tie handling, metrics).

Every measurement runs in a fresh subprocess that loads the data from a .npy file. Just before the timed call it
resets the kernel's high-water mark of resident memory (``/proc/self/clear_refs``), and after it reads that mark
(VmHWM): the peak resident memory of the process during the call (imports and data included, start-up
spikes excluded). The table gives that peak and its rise above the resident size just before the call. Times are the best of ``--reps`` runs,
floor and psviz interleaved.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def class_sizes(n: int, n_classes: int, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    """``n_classes`` sizes in [low, high] summing to exactly ``n`` (binomial around the mean, then nudged)."""
    p = (n / n_classes - low) / (high - low)
    sizes = low + rng.binomial(high - low, p, n_classes)
    while (gap := n - int(sizes.sum())) != 0:
        can = np.flatnonzero(sizes < high) if gap > 0 else np.flatnonzero(sizes > low)
        pick = rng.choice(can, size=min(abs(gap), can.size), replace=False)
        sizes[pick] += 1 if gap > 0 else -1
    return sizes


def make_set(n: int, n_classes: int, low: int, high: int, dim: int, noise: float, seed: int):
    """Gaussian clusters: class centres plus isotropic noise, float32, items shuffled."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(n_classes), class_sizes(n, n_classes, low, high, rng)))
    x = rng.standard_normal((n_classes, dim), dtype=np.float32)[labels]
    x += noise * rng.standard_normal((n, dim), dtype=np.float32)
    return x, labels


def needed_k(labels: np.ndarray, ks: tuple[int, ...]) -> int:
    """Neighbours an exact method must fetch per query: max(max K, max R) + 1 for the query itself."""
    return max(max(ks), int(np.bincount(labels).max()) - 1) + 1


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0), so the peak read later is the call's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False  # then ru_maxrss also covers start-up and loading, an upper bound


def peak_rss() -> int:
    """Bytes: the process's resident high-water mark (VmHWM, which clear_refs resets; ru_maxrss where absent).

    Not ru_maxrss first: Linux carries it over from the parent through fork and exec, so it would report the
    parent's peak whenever that was larger.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def child(kind: str, data: str, ks: tuple[int, ...], k: int, repeat: int) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    import psutil

    x, labels = np.load(data + "_x.npy"), np.load(data + "_y.npy")
    if kind == "floor":
        import faiss

        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        del x
        faiss.knn(unit[:100], unit, k, metric=faiss.METRIC_INNER_PRODUCT)  # warm-up: threads, pages
        run = lambda: faiss.knn(unit, unit, k, metric=faiss.METRIC_INNER_PRODUCT)  # noqa: E731
    else:
        sys.path.insert(0, str(REPO))
        from psviz.evaluate import retrieval_metrics

        retrieval_metrics(x[:2000], labels[:2000], (1, 2), progress=False)  # warm-up: imports, threads
        run = lambda: retrieval_metrics(x, labels, ks, progress=False)  # noqa: E731
    reset = reset_peak_rss()
    rss_before = psutil.Process().memory_info().rss
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    peak = peak_rss()
    out = {"seconds": min(times), "peak_rss": peak, "rss_before": rss_before, "peak_reset": reset}
    if kind == "psviz":
        out["metrics"] = result
    print(json.dumps(out))


def measure(kind: str, data: str, ks, k: int, repeat: int) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--data", data, "--ks", ",".join(map(str, ks)),
               "--k", str(k), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} measurement failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sets, one run each: a smoke test")
    parser.add_argument("--reps", type=int, default=None, help="processes per measurement (default 2, quick 1)")
    parser.add_argument("--child", choices=["floor", "psviz"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--ks", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, tuple(int(k) for k in args.ks.split(",")), args.k, args.repeat)
        return

    reps = args.reps or (1 if args.quick else 2)
    scale = 10 if args.quick else 1
    sop, cub = (1, 10, 100, 1000), (1, 2, 4, 8)
    # name, N, classes, class sizes, noise, K lists, runs in one process (short searches repeat for a stable time).
    # The noise levels give Recall@1 near 0.8 (SOP-sized) and 0.7 (CUB-sized): clustered, far from trivial.
    sets = [
        ("SOP-sized", 60_502 // scale, 11_316 // scale, (2, 12), 2.2, (sop, cub), 1),
        ("CUB-sized", 5_924 // scale, 100 // scale, (41, 60) if not args.quick else (50, 70), 3.4, (cub,), 5),
    ]
    dim, mib = 512, 2**20
    print(f"# {os.cpu_count()} CPUs, faiss {version('faiss-cpu')}, numpy {np.__version__}, torch {version('torch')}; "
          f"best of {reps} process(es)\n")
    rows, everything = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, n, n_classes, (low, high), noise, k_lists, repeat) in enumerate(sets):
            x, labels = make_set(n, n_classes, low, high, dim, noise, seed=i)
            data = os.path.join(tmp, name)
            np.save(data + "_x.npy", x)
            np.save(data + "_y.npy", labels)
            del x
            for ks in k_lists:
                k = needed_k(labels, ks)
                floor, ours = [], []
                for _ in range(reps):
                    floor.append(measure("floor", data, ks, k, repeat))
                    ours.append(measure("psviz", data, ks, k, repeat))
                everything += floor + ours
                best_floor = min(m["seconds"] for m in floor)
                best = min(ours, key=lambda m: m["seconds"])
                rows.append([name, f"{n:,} x {dim}", f"{n_classes:,}", ",".join(map(str, ks)), str(k),
                             f"{best_floor:.2f}", f"{best['seconds']:.2f}", f"{best['seconds'] / best_floor:.3f}",
                             f"{max(m['peak_rss'] for m in ours) / mib:,.0f}",
                             f"{max(m['peak_rss'] - m['rss_before'] for m in ours) / mib:,.0f}",
                             f"{max(m['peak_rss'] for m in floor) / mib:,.0f}"])
                print(f"{name}: " + ", ".join(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}"
                                              for key, value in best["metrics"].items()), flush=True)

    if not all(m["peak_reset"] for m in everything):
        print("note: /proc/self/clear_refs unavailable: peaks include start-up and data loading (upper bounds)")
    header = ["set", "N x d", "classes", "K list", "k", "faiss floor (s)", "psviz (s)", "ratio",
              "psviz peak RSS (MiB)", "rise in call (MiB)", "floor peak RSS (MiB)"]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
