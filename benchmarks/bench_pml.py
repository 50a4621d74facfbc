"""What Proxy Synthesis costs in pytorch-metric-learning's losses through `with_proxy_synthesis`, against psviz's own
loss with PS, on the same batch.

    python benchmarks/bench_pml.py                # batch 128, 512-d, 100 classes (CUB-sized), forward + backward
    python benchmarks/bench_pml.py --batch 256 --classes 1000

For each psviz loss with a PML twin (`psviz.integrations.pml.from_psviz`, hyper-parameters converted) it times one
training step of the loss alone (forward and backward, embeddings requiring grad) for: psviz without PS, psviz with
PS, PML plain, PML wrapped with PS. Each time is the median of --repeats steps after 5 warm-up steps, on the CPU with
the process's torch threads. "wrapper overhead" is wrapped PML / psviz with PS.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from psviz import losses
from psviz.integrations.pml import TWINS, from_psviz
from psviz.method.synthesis import ProxySynthesis


def step_seconds(loss, embeddings, labels, repeats: int) -> float:
    times = []
    for i in range(repeats + 5):
        x = embeddings.clone().requires_grad_()
        started = time.perf_counter()
        loss(x, labels).backward()
        if i >= 5:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    torch.manual_seed(0)
    embeddings = torch.randn(args.batch, args.dim)
    labels = torch.randint(0, args.classes, (args.batch,))
    print(f"batch {args.batch} x {args.dim}, {args.classes} classes, mu=1 (S={args.batch}), torch threads "
          f"{torch.get_num_threads()}; ms per forward + backward of the loss (median of {args.repeats})\n")
    print("| psviz loss | PML twin | psviz | psviz + PS | PML | PML + PS (wrapper) | wrapper overhead |")
    print("|---|---|---|---|---|---|---|")
    for name, (pml_name, _, _) in TWINS.items():
        hyper = {"tau": 0.0} if name == "soft_triple" else {"softmax_weight": 0.0} if name == "sphereface" else {}
        plain = losses.create(name, args.classes, args.dim, **hyper)
        with_ps = losses.create(name, args.classes, args.dim, synthesis=ProxySynthesis(0.4, 1.0), **hyper)
        twin = from_psviz(plain)
        twin_ps = from_psviz(with_ps)
        t = [1000 * step_seconds(loss, embeddings, labels, args.repeats) for loss in (plain, with_ps, twin, twin_ps)]
        print(f"| {name} | {pml_name} | {t[0]:.2f} | {t[1]:.2f} | {t[2]:.2f} | {t[3]:.2f} | {t[3] / t[1]:.2f}x |")


if __name__ == "__main__":
    main()
