"""The smallest end-to-end run of psviz: every loss on one seeded toy batch, with and without Proxy Synthesis."""

from __future__ import annotations

import torch

from . import losses
from .synthesis import ProxySynthesis, proxy_synthesis


def toy_batch(n_classes: int = 8, per_class: int = 4, dim: int = 16, seed: int = 0):
    """A class-balanced batch of noisy embeddings around random class directions."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, dim, generator=generator)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    embeddings = centres[labels] + 0.5 * torch.randn(len(labels), dim, generator=generator)
    return embeddings, labels


def loss_table(alpha: float = 0.4, mu: float = 1.0, seed: int = 0) -> list[dict]:
    """For each registered loss: its value on the toy batch without and with PS (same random proxies and batch)."""
    embeddings, labels = toy_batch(seed=seed)
    n_classes, dim = int(labels.max()) + 1, embeddings.shape[1]
    rows = []
    for name in losses.available():
        torch.manual_seed(seed + 1)  # proxies independent of the batch's class centres
        loss = losses.create(name, n_classes, dim)
        baseline = loss(embeddings, labels).item()
        loss.synthesis = ProxySynthesis(alpha, mu)
        torch.manual_seed(seed)
        with_ps = loss(embeddings, labels).item()
        rows.append({"loss": name, "without_ps": baseline, "with_ps": with_ps})
    return rows


def run(alpha: float = 0.4, mu: float = 1.0, seed: int = 0) -> None:
    embeddings, labels = toy_batch(seed=seed)
    generator = torch.Generator().manual_seed(seed)
    mixed = proxy_synthesis(embeddings, torch.randn(int(labels.max()) + 1, embeddings.shape[1]), labels,
                            alpha, mu, generator=generator)
    print(f"Proxy Synthesis on a toy batch of {mixed.n_real} embeddings from {mixed.n_classes} classes "
          f"(alpha={alpha:g}, mu={mu:g}, seed={seed}):")
    print(f"  lambda = {mixed.lam:.3f}; {mixed.n_synthetic} synthetic classes, labels "
          f"{mixed.n_classes}..{mixed.n_classes + mixed.n_synthetic - 1}; no pair mixes a class with itself.\n")
    print("Each loss with fresh random proxies, on that batch:")
    print(f"{'loss':<14}{'without PS':>12}{'with PS':>12}")
    for row in loss_table(alpha, mu, seed):
        print(f"{row['loss']:<14}{row['without_ps']:>12.4f}{row['with_ps']:>12.4f}")
    print("\nWith PS each loss also has to separate the synthetic classes, usually hard negatives lying "
          "between real ones.")
