"""Seconds per training epoch with and without Proxy Synthesis on the small CPU presets, and PS's overhead.

Run: .venv/bin/python benchmarks/bench_train.py [--presets digits glyphs fashion-mnist] [--steps 30] [--repeats 3]

For each preset the same batches are timed with PS on and off (alternating, after a warm-up), the median step time
is taken, and seconds/epoch = median step time x steps per epoch. Data loading is included, evaluation is not.
The overhead is (step with PS - step without) / step without. With --gpu-resnet50 on a CUDA machine it also times
the ResNet-50 224-px preset on synthetic input (bf16 autocast, channels-last) and reports images/s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from psviz.method.synthesis import ProxySynthesis
from psviz.train import preset
from psviz.train import build, distributed
from psviz.train.batches import Batches, loader as batch_loader


def time_steps(parts, batches, config, device, steps: int) -> float:
    """Median over repeats is taken by the caller; this returns seconds per step for ``steps`` steps."""
    trainable = distributed.Joint(parts.model, parts.loss).to(device)
    parts.model.train()
    parts.loss.train()
    loader = batch_loader(parts.train_set, batches[:steps], config.num_workers)
    started = time.perf_counter()
    for x, y in loader:
        value = trainable(x.to(device), y.to(device))
        parts.optimizer.zero_grad(set_to_none=True)
        value.backward()
        parts.optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / min(steps, len(batches))


def bench_preset(name: str, steps: int, repeats: int) -> dict:
    config = preset(name)
    device = torch.device("cpu")
    parts = build(config, device)
    batches = Batches(config, parts.train_set.targets).epoch(0)
    synthesis = ProxySynthesis(config.alpha, config.mu)
    times = {True: [], False: []}
    parts.loss.synthesis = synthesis
    time_steps(parts, batches, config, device, 3)  # warm-up
    for _ in range(repeats):
        for ps in (False, True):
            parts.loss.synthesis = synthesis if ps else None
            times[ps].append(time_steps(parts, batches, config, device, steps))
    per_step = {ps: statistics.median(t) for ps, t in times.items()}
    return {"preset": name, "steps/epoch": len(batches), "batch": config.batch_size,
            "s/epoch no PS": per_step[False] * len(batches), "s/epoch PS": per_step[True] * len(batches),
            "overhead": per_step[True] / per_step[False] - 1}


def bench_resnet50_gpu(steps: int, n_classes: int) -> list[dict]:
    """ResNet-50 (random init), 224 px, batch 128, synthetic images, bf16 autocast, channels-last, Norm-SoftMax."""
    from psviz import losses, models

    device = torch.device("cuda")
    torch.manual_seed(0)
    rows = []
    images = torch.randn(128, 3, 224, 224, device=device).to(memory_format=torch.channels_last)
    labels = torch.randint(0, n_classes, (128,), device=device)
    for ps in (False, True, False, True):  # alternate, so clock and thermal drift hit both alike
        model = models.create("resnet50", 512).to(device).to(memory_format=torch.channels_last)
        loss = losses.create("norm_softmax", n_classes, 512, synthesis=ProxySynthesis() if ps else None).to(device)
        optimizer = torch.optim.Adam([{"params": model.parameters()}, {"params": loss.parameters(), "lr": 1e-2}],
                                     lr=1e-4)
        for i in range(steps + 20):
            if i == 20:
                torch.cuda.synchronize()
                started = time.perf_counter()
            with torch.autocast("cuda", dtype=torch.bfloat16):
                value = loss(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
        torch.cuda.synchronize()
        rows.append((ps, (time.perf_counter() - started) / steps))
    per_step = {ps: statistics.median(t for p, t in rows if p == ps) for ps in (False, True)}
    return [{"classes": n_classes, "ps": ps, "images/s": 128 / per_step[ps], "ms/step": 1000 * per_step[ps],
             "overhead": per_step[ps] / per_step[False] - 1} for ps in (False, True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=["digits", "glyphs", "fashion-mnist"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpu-resnet50", action="store_true", help="also time ResNet-50 on a CUDA GPU")
    parser.add_argument("--gpu-steps", type=int, default=200)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'preset':<15}{'steps/epoch':>12}{'batch':>7}{'s/epoch no PS':>15}{'s/epoch PS':>12}{'PS overhead':>13}")
    for name in args.presets:
        r = bench_preset(name, args.steps, args.repeats)
        print(f"{r['preset']:<15}{r['steps/epoch']:>12}{r['batch']:>7}{r['s/epoch no PS']:>15.2f}"
              f"{r['s/epoch PS']:>12.2f}{100 * r['overhead']:>12.1f}%", flush=True)
    if args.gpu_resnet50:
        print(f"\nResNet-50 on {torch.cuda.get_device_name()}, 224 px, batch 128, bf16 autocast, channels-last, "
              f"{args.gpu_steps} timed steps after 20 warm-up, median of 2 alternating runs each")
        print(f"{'classes':>8}{'PS':>5}{'images/s':>10}{'ms/step':>9}{'PS overhead':>13}")
        for n_classes in (100, 11318):  # CUB-200's seen classes and SOP's
            for r in bench_resnet50_gpu(args.gpu_steps, n_classes):
                print(f"{r['classes']:>8}{'yes' if r['ps'] else 'no':>5}{r['images/s']:>10.0f}{r['ms/step']:>9.2f}"
                      f"{100 * r['overhead']:>12.2f}%", flush=True)


if __name__ == "__main__":
    main()
