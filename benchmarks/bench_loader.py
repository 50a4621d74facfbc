"""Images/s of the image loader per CPU worker: the plain path (JPEG files) against the decoded cache.

    python benchmarks/bench_loader.py            # 200 classes x 20 generated 500x375 JPEGs; about 2 minutes on 2 cores
    python benchmarks/bench_loader.py --quick    # 20 classes x 10, small batches: a smoke run of some seconds

The data: a generated folder in CUB-200-2011's layout (`psviz.data.write_cub_layout`, written once under
cache_dir()/bench-loader and reused), read with `load_cub200`; its seen split (half the images) is timed.

The paths, each with the training transform (RandomResizedCrop(224) + flip + ToDtype + Normalize) and the test
transform (Resize(256) + CenterCrop(224) + ToDtype + Normalize), as `image_transform` builds them:
- **plain**: `ImageFileSplit`, PIL opens and decodes each JPEG when an item is read;
- **decoded cache**: `decoded_split(split, 256)`, items read from the uint8 cache (built first, in a temporary
  folder, and its build timed: the one-time cost);
- **decoded cache, uint8 out** (training transform only): the same without ToDtype + Normalize, so batches leave
  the workers as uint8 crops, a quarter of float32's bytes. Not a psviz option: it measures what moving those two
  steps to the GPU would give the loader.

Each is timed through `psviz.train.batches.loader`, the loader training uses, in this process (num_workers=0, torch
held to one thread so it is one core's rate) and with DataLoader workers. One stream of batches per measurement: the
first 2 x max(1, workers) batches are the warm-up (worker start-up included), then --repeats blocks of --batches
batches are timed; a stream's rate is its median block's images/s. Every case runs in --rounds rounds, one stream a
round, and the table gives the median round. "per worker" divides by the workers (in-process: by 1).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from psviz.data import cache_dir, decoded_split, load
from psviz.data.fake_cub import FOLDER, MARKER, ensure_cub_layout
from psviz.data.transforms import image_transform, resize_size
from psviz.train.batches import loader

CROP = 224
UINT8_OUT = "decoded cache, uint8 out"


def stream(n_items: int, batch: int, count: int, seed: int = 0) -> list[list[int]]:
    """``count`` batches of ``batch`` indices, a fixed random order cycling over the items."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n_items) for _ in range(batch * count // n_items + 1)])
    return [order[i * batch:(i + 1) * batch].tolist() for i in range(count)]


def images_per_second(dataset, workers: int, batch: int, batches: int, repeats: int) -> float:
    """The median over ``repeats`` timed blocks of ``batches`` batches, after the warm-up (see the docstring)."""
    warmup = 2 * max(1, workers)
    plan = stream(len(dataset), batch, warmup + repeats * batches)
    threads = torch.get_num_threads()
    if workers == 0:
        torch.set_num_threads(1)  # workers run one thread each; in-process, one core too
    try:
        stamps = []
        for number, _ in enumerate(loader(dataset, plan, workers), start=1):
            if number >= warmup:
                stamps.append(time.perf_counter())
    finally:
        torch.set_num_threads(threads)
    blocks = [stamps[i * batches + batches] - stamps[i * batches] for i in range(repeats)]
    return batch * batches / statistics.median(blocks)


def stage_times(split, cached, count: int) -> list[tuple[str, str, float]]:
    """ms an image of each stage of the training transform, in this process on one thread, item by item as a loader
    runs them (outputs dropped, not kept), over ``count`` items after a warm-up of 5."""
    from torchvision.transforms import v2

    stages = [("ToImage + RandomResizedCrop + flip",
               v2.Compose([v2.ToImage(), v2.RandomResizedCrop(CROP, antialias=True), v2.RandomHorizontalFlip()])),
              ("ToDtype + Normalize", v2.Compose(image_transform(True, CROP).transforms[-2:]))]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for path, dataset, first in (("plain", split, "PIL open + decode + RGB"),
                                     ("decoded cache", cached, "read from the memory map")):
            totals = np.zeros(1 + len(stages))
            for number in range(count + 5):
                stamps = [time.perf_counter()]
                x = dataset.load_item(number % len(dataset))
                stamps.append(time.perf_counter())
                for _, function in stages:
                    x = function(x)
                    stamps.append(time.perf_counter())
                if number >= 5:
                    totals += np.diff(stamps)
            names = [first, *(name for name, _ in stages)]
            rows += [(path, name, 1000 * total / count) for name, total in zip(names, totals)]
    finally:
        torch.set_num_threads(threads)
    return rows


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} CPUs ({model}), {gpu}"


def versions() -> str:
    import PIL
    import torchvision

    return (f"Python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"Pillow {PIL.__version__}, numpy {np.__version__}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=200, help="generated classes (half seen; default 200)")
    parser.add_argument("--per-class", type=int, default=20, help="images a class (default 20)")
    parser.add_argument("--root", type=Path, default=None, help="where the generated folder goes")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--batches", type=int, default=4, help="batches a timed block (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="timed blocks a stream; the median counts (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="streams a case, one a round; the median counts")
    parser.add_argument("--workers", default="0,1,2", help="DataLoader workers to time (0: in-process)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 classes x 10, batch 16")
    args = parser.parse_args()
    if args.quick:
        args.classes, args.per_class, args.batch, args.batches, args.repeats, args.rounds = 20, 10, 16, 2, 2, 1
    args.workers = [int(w) for w in args.workers.split(",")]
    args.root = args.root or cache_dir() / "bench-loader" / f"cub-{args.classes}x{args.per_class}"
    return args


def prepare(args, scratch: Path):
    """(plain seen split, its decoded cache, a line on how both were made)."""
    marker = args.root / FOLDER / MARKER
    before = marker.stat().st_mtime_ns if marker.is_file() else None
    started = time.perf_counter()
    folder = ensure_cub_layout(args.root, classes=args.classes, per_class=args.per_class)
    made = time.perf_counter() - started
    written = marker.stat().st_mtime_ns != before
    jpegs = sorted((folder / "images").rglob("*.jpg"))
    mean_kb = np.mean([p.stat().st_size for p in jpegs]) / 1024
    split = load("cub200", "seen", root=folder, transform=image_transform(True, CROP))
    started = time.perf_counter()
    cached = decoded_split(split, resize_size(CROP), folder=scratch, progress=False)
    built = time.perf_counter() - started
    size = cached.pixels_path.stat().st_size / 2**20
    note = (f"data: {len(jpegs)} generated JPEGs in {folder} (mean {mean_kb:.0f} KB; "
            f"{'written' if written else 'reused'} in {made:.1f} s); timed: the seen split, {len(split)} images\n"
            f"decoded cache: built in {built:.1f} s ({len(split) / built:.0f} images/s, one process), "
            f"{size:.0f} MiB ({size / len(split) * 1024:.0f} KiB an image)")
    return split, cached, note


def measure(args, split, cached) -> list[dict]:
    """Each transform and worker count on each path, ``args.rounds`` times; the rounds run one after the other over
    all cases (and the paths next to each other), so that the machine's drift hits every case alike."""
    from torchvision.transforms import v2

    uint8_out = copy.copy(cached)  # the training transform less ToDtype + Normalize: uint8 crops leave the worker
    uint8_out.transform = v2.Compose(image_transform(True, CROP).transforms[:-2])
    rates = defaultdict(list)
    for round_number in range(args.rounds):
        for train in (True, False):
            split.transform = cached.transform = image_transform(train, CROP)
            paths = [("plain", split), ("decoded cache", cached)] + ([(UINT8_OUT, uint8_out)] if train else [])
            for workers in args.workers:
                for name, dataset in paths:
                    rate = images_per_second(dataset, workers, args.batch, args.batches, args.repeats)
                    rates["train" if train else "test", workers, name].append(rate)
        print(f"  round {round_number + 1} of {args.rounds} done", flush=True)
    rows = []
    for (transform, workers, name), values in rates.items():
        rate, plain = statistics.median(values), statistics.median(rates[transform, workers, "plain"])
        rows.append({"transform": transform, "path": name, "workers": workers, "rate": rate,
                     "per worker": rate / max(1, workers), "ratio": rate / plain,
                     "spread": f"{min(values):,.0f}-{max(values):,.0f}"})
    return rows


def main() -> None:
    args = parse()
    print(f"# bench_loader {datetime.datetime.now().isoformat(timespec='minutes')}\n{machine()}\n{versions()}")
    scratch = Path(tempfile.mkdtemp(prefix="psviz-bench-loader-"))
    try:
        split, cached, note = prepare(args, scratch)
        print(note, flush=True)
        rows = measure(args, split, cached)
        stages = stage_times(split, cached, min(len(split), 200))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nbatch {args.batch}; a stream's rate: the median of {args.repeats} blocks of {args.batches} batches after "
          f"its warm-up; the table: the median of {args.rounds} rounds (their range in the last column)\n")
    print("| transform | workers | path | images/s | images/s per worker | vs plain | rounds' range |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        workers = "in-process" if r["workers"] == 0 else str(r["workers"])
        print(f"| {r['transform']} | {workers} | {r['path']} | {r['rate']:,.0f} | {r['per worker']:,.0f} | "
              f"{r['ratio']:.2f}x | {r['spread']} |")
    print("\nWhere an item's time goes (training transform, in-process, one thread):\n")
    print("| path | stage | ms an image |\n|---|---|---|")
    for path, stage, ms in stages:
        print(f"| {path} | {stage} | {ms:.2f} |")


if __name__ == "__main__":
    main()
