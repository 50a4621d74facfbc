"""Images/s of the pretrained EfficientNet-Lite0 embedder on the CPU: training steps and evaluation, at 64 and 96 px.

Run: .venv/bin/python benchmarks/bench_pretrained.py [--sizes 64 96] [--steps 10] [--batch 32]

The model is `psviz.models.create("efficientnet_lite0", 128, weights="imagenet")` (BatchNorm frozen, average
pooling). A training step is forward + Norm-SoftMax loss (100 classes, no Proxy Synthesis) + backward + Adam step on
synthetic images; evaluation is a no-grad forward in eval mode. Torch uses every available core. Each figure is
batch x steps / seconds after 3 warm-up steps; the 1-minute load average is printed first, as it skews CPU timings.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from psviz import losses, models


def train_rate(model, loss, images, labels, steps: int) -> float:
    """Images/s of forward + loss + backward + Adam step, after 3 warm-up steps."""
    optimizer = torch.optim.Adam([{"params": [p for p in model.parameters() if p.requires_grad]},
                                  {"params": loss.parameters(), "lr": 1e-2}], lr=1e-4)
    model.train()
    for step in range(steps + 3):
        if step == 3:
            started = time.perf_counter()
        value = loss(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
    return len(images) * steps / (time.perf_counter() - started)


def eval_rate(model, images, steps: int) -> float:
    """Images/s of a no-grad forward in eval mode, after 3 warm-up passes."""
    model.eval()
    with torch.no_grad():
        for step in range(steps + 3):
            if step == 3:
                started = time.perf_counter()
            model(images)
    return len(images) * steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 96])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average (1 min) {load:.2f}")
    print(f"{'size':>5}{'batch':>7}{'train images/s':>16}{'eval images/s':>15}")
    for size in args.sizes:
        torch.manual_seed(0)
        model = models.create("efficientnet_lite0", 128, weights="imagenet", pooling="avg", freeze_bn=True)
        loss = losses.create("norm_softmax", 100, 128)
        images = torch.randn(args.batch, 3, size, size)
        labels = torch.randint(0, 100, (args.batch,))
        train = train_rate(model, loss, images, labels, args.steps)
        evaluate = eval_rate(model, images, args.steps)
        print(f"{size:>5}{args.batch:>7}{train:>16.1f}{evaluate:>15.1f}", flush=True)
    print(f"load average (1 min) at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
