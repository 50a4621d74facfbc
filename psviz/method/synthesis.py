"""Proxy Synthesis (Gu, Ko, Kim, AAAI 2021): mix pairs of embeddings and their proxies into synthetic classes.

Differences from the released code, on purpose:

* The released code pairs sample i with sample i-1 after reordering the batch with a swap loop that silently gives
  up after 50 passes, so two samples of one class can be mixed. Here a random pairing is drawn (vectorised, on the
  tensors' device) so that no sample is ever mixed with its own class; ``partner=roll_partner(B)`` reproduces the
  released pairing when you want it.
* The released code makes at most B synthetics, so every mu > 1 behaves as mu = 1. Here mu means what it says:
  floor(mu * B) synthetic classes, drawing ceil(floor(mu * B) / B) independent pairings.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..base.checks import check_float_tensor, check_labels_shape, check_number, raise_flagged

__all__ = [
    "RELEASED_ALPHA",
    "RELEASED_MU",
    "SynthesisResult",
    "ProxySynthesis",
    "proxy_synthesis",
    "sample_lambda",
    "random_partner",
    "roll_partner",
    "n_synthetic_for",
    "mu_for_rho",
    "synthetic_per_class",
]

# The released code's defaults (its CARS196 commands): λ ~ Beta(0.4, 0.4), and as many synthetic classes as the
# batch has items. Every default α and μ in psviz is one of these.
RELEASED_ALPHA, RELEASED_MU = 0.4, 1.0


@dataclass(frozen=True)
class SynthesisResult:
    """Real rows followed by synthetic ones, ready for an unchanged proxy loss.

    ``embeddings`` [B+S, d], ``proxies`` [C+S, d] (or [C+S, K, d]), ``labels`` [B+S] with synthetic labels C..C+S-1;
    ``partner`` holds the batch index each sample was mixed with, one block of B per pairing ([B] for mu <= 1);
    synthetic i mixes sample ``i % B`` with sample ``partner[i]``; ``normalized`` says whether rows were L2-normalised.
    """

    embeddings: Tensor
    proxies: Tensor
    labels: Tensor
    lam: float
    partner: Tensor
    n_real: int
    n_synthetic: int
    normalized: bool = True

    def with_lambda(self, lam: float) -> "SynthesisResult":
        """The same batch and pairs mixed with another lam (what a lam slider shows); inputs are left unchanged."""
        lam = check_number(lam, "lam", low=0.0, high=1.0)  # None would silently draw a random lam
        return proxy_synthesis(self.embeddings[: self.n_real], self.proxies[: self.n_classes],
                               self.labels[: self.n_real], mu=self.n_synthetic / self.n_real, lam=lam,
                               partner=self.partner if self.n_synthetic else None, normalize=self.normalized)

    @property
    def n_classes(self) -> int:
        """Number of real classes (proxies before the synthetic ones)."""
        return self.proxies.shape[0] - self.n_synthetic

    @property
    def pairs(self) -> Tensor:
        """LongTensor [S, 2]: for each synthetic class, the batch indices of its two sources (weights lam, 1-lam)."""
        source = torch.arange(self.n_synthetic, device=self.partner.device) % max(self.n_real, 1)
        return torch.stack([source, self.partner[: self.n_synthetic]], dim=1)

    @property
    def synthetic_embeddings(self) -> Tensor:
        return self.embeddings[self.n_real:]

    @property
    def synthetic_proxies(self) -> Tensor:
        return self.proxies[self.n_classes:]


def n_synthetic_for(mu: float, batch_size: int) -> int:
    """floor(mu * B), robust to float representation (0.29 * 100 gives 29, not 28)."""
    return math.floor(mu * batch_size + 1e-9)


def mu_for_rho(rho: float, n_classes: int, batch_size: int) -> float:
    """The μ that makes max(1, round(ρ·C)) synthetic classes a batch of B: ρ synthetic classes per seen class, as
    near as whole classes allow (ρ = ⌊μB⌋ / C, the effect map's axis)."""
    return max(1, round(rho * n_classes)) / batch_size


def synthetic_per_class(mu: float, n_classes: int, batch_size: int) -> float:
    """ρ = ⌊μB⌋ / C: synthetic classes a batch makes per seen class."""
    return n_synthetic_for(mu, batch_size) / n_classes


def sample_lambda(alpha: float, generator: torch.Generator | None = None) -> float:
    """Draw lam ~ Beta(alpha, alpha) by inverting the CDF of one uniform from torch's RNG (so seeds reproduce it)."""
    alpha = check_number(alpha, "alpha", low=0.0, low_open=True)
    device = generator.device if generator is not None else "cpu"  # a CUDA generator draws on its device
    u = torch.rand((), generator=generator, dtype=torch.float64, device=device).item()
    from scipy.special import betaincinv  # here, not at the top: scipy.special takes ~0.3 s to import

    return float(betaincinv(alpha, alpha, u))


def roll_partner(batch_size: int, device: torch.device | str | None = None) -> Tensor:
    """The released code's pairing: sample i is mixed with sample (i - 1) mod B."""
    return torch.roll(torch.arange(batch_size, device=device), 1)


def random_partner(labels: Tensor, n_pairings: int = 1, generator: torch.Generator | None = None, *,
                   check: bool = True) -> Tensor:
    """Draw ``n_pairings`` pairings at once: for every sample, a uniformly chosen sample of another class.

    Returns LongTensor [n_pairings * B] on ``labels``' device. Vectorised in O(B log B): with the batch sorted by
    label, the samples of other classes are the positions outside the sample's class block, so a uniform draw among
    them is a uniform offset that skips that block. Raises ValueError when the batch holds fewer than two classes
    (``check=False`` skips that test, which costs a device sync, for callers that made it already).
    """
    batch_size = labels.shape[0]
    if check and (batch_size < 2 or not bool((labels != labels[0]).any())):
        raise ValueError("labels: a valid pairing needs at least two different classes in the batch")
    order = torch.argsort(labels, stable=True)
    ordered = labels[order]
    start = torch.searchsorted(ordered, labels, side="left")  # where each sample's class block begins
    size = torch.searchsorted(ordered, labels, side="right") - start
    rng_device = generator.device if generator is not None else labels.device
    u = torch.rand((n_pairings, batch_size), generator=generator, device=rng_device, dtype=torch.float64)
    offset = (u.to(labels.device) * (batch_size - size)).long()  # uniform in [0, number of other-class samples)
    position = offset + (offset >= start) * size
    return order[position.clamp_max(batch_size - 1)].reshape(-1)


def _check_partner(partner, labels: Tensor, n_pairings: int, n_synthetic: int) -> Tensor:
    batch_size = labels.shape[0]
    if not isinstance(partner, Tensor):
        partner = torch.as_tensor(partner)
    expected = batch_size * max(n_pairings, 1)
    if partner.dim() != 1 or partner.shape[0] != expected:
        raise ValueError(
            f"partner must be a 1-D tensor of {expected} batch indices "
            f"({max(n_pairings, 1)} pairing(s) of B={batch_size}), got shape {tuple(partner.shape)}")
    if partner.is_floating_point() or partner.dtype == torch.bool:
        raise ValueError(f"partner must be an integer tensor, got {partner.dtype}")
    partner = partner.to(device=labels.device, dtype=torch.long)
    used = partner[:n_synthetic]
    source = torch.arange(n_synthetic, device=labels.device) % batch_size
    in_range = (used >= 0) & (used < batch_size)
    flags = torch.stack([~in_range.all(), (labels[source] == labels[used.clamp(0, batch_size - 1)]).any()])
    raise_flagged(flags, [
        f"partner holds indices outside [0, {batch_size})",
        "partner pairs a sample with a sample of its own class; synthetic classes must mix two classes",
    ])
    return partner


def _memory_bytes(device: torch.device) -> int | None:
    """The most memory a tensor on ``device`` can use: a CUDA device's total, else the host's RAM (None: unknown)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def _format_bytes(n: int) -> str:
    """``n`` bytes in binary units, e.g. '8.0 GiB'."""
    size, unit = float(n), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size < 1024 or unit == "EiB":
            break
        size /= 1024
    return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"


def _check_synthetic_size(n_synthetic: int, mu: float, embeddings: Tensor, proxies: Tensor) -> None:
    """Refuse, before allocating anything, a mu whose synthetic embeddings and proxies exceed the device's memory
    (instead of the allocator's error, or the machine swapping until it is killed)."""
    if n_synthetic == 0:
        return
    proxy_row = math.prod(proxies.shape[1:])  # d, or K * d for K centres per class
    row_bytes = embeddings.shape[1] * embeddings.element_size() + proxy_row * proxies.element_size()
    needed, available = n_synthetic * row_bytes, _memory_bytes(embeddings.device)
    if available is None or needed <= available:
        return
    batch_size = embeddings.shape[0]
    most = available // row_bytes  # synthetic rows that would fit
    raise ValueError(
        f"mu={mu:g} asks for {n_synthetic:,} synthetic rows (floor(mu * B), B={batch_size}), whose embeddings "
        f"[{n_synthetic:,}, {embeddings.shape[1]}] ({embeddings.dtype}) and proxies "
        f"[{n_synthetic:,}, {', '.join(map(str, proxies.shape[1:]))}] ({proxies.dtype}) would take "
        f"{_format_bytes(needed)} ({needed:,} bytes), more than the {_format_bytes(available)} of memory on "
        f"{embeddings.device}: at most {most:,} synthetic rows fit (mu about {most / batch_size:.3g} for this batch)")


def proxy_synthesis(embeddings: Tensor, proxies: Tensor, labels: Tensor, alpha: float = RELEASED_ALPHA,
                    mu: float = RELEASED_MU, *,
                    lam: float | None = None, partner: Tensor | None = None,
                    generator: torch.Generator | None = None, normalize: bool = True,
                    check: bool = True) -> SynthesisResult:
    """Make floor(mu*B) synthetic classes from a batch and return real plus synthetic rows for the loss.

    embeddings [B, d], proxies [C, d] (or [C, K, d] for K centres per class, mixed centre by centre), labels [B] in
    [0, C). One lam ~ Beta(alpha, alpha) per call (or ``lam``); synthetic i = lam * e_i + (1 - lam) * e_partner[i]
    with proxy lam * p[y_i] + (1 - lam) * p[y_partner[i]] and label C + i. With ``normalize`` (the paper's setting)
    inputs are L2-normalised first and synthetic rows again after mixing; ``normalize=False`` mixes raw vectors
    (used by the unnormalised Softmax loss). Gradients flow to embeddings and proxies.

    ``check=False`` skips the tests of tensor values (finite, label range, two classes: one device sync), for a
    caller such as a loss that tested its inputs already; shapes, devices and a given ``partner`` are still checked.
    """
    alpha = check_number(alpha, "alpha", low=0.0, low_open=True)
    mu = check_number(mu, "mu", low=0.0)
    _check_shapes(embeddings, proxies, labels)
    if lam is not None:
        lam = check_number(lam, "lam", low=0.0, high=1.0)
    batch_size = embeddings.shape[0]
    n_synthetic = n_synthetic_for(mu, batch_size)
    _check_synthetic_size(n_synthetic, mu, embeddings, proxies)
    if check:
        _check_values(embeddings, proxies, labels, pairing=n_synthetic > 0 and partner is None)
    partner = _pairing(labels, n_synthetic, partner, generator)
    if lam is None:
        lam = sample_lambda(alpha, generator)  # after the pairing: the RNG draws partners first, then lam
    if normalize:
        embeddings = F.normalize(embeddings, dim=-1)
        proxies = F.normalize(proxies, dim=-1)
    if n_synthetic == 0:
        return SynthesisResult(embeddings, proxies, labels, lam, partner, batch_size, 0, normalize)
    syn_embeddings, syn_proxies = _mix(embeddings, proxies, labels, partner[:n_synthetic], lam, normalize)
    syn_labels = proxies.shape[0] + torch.arange(n_synthetic, device=labels.device, dtype=labels.dtype)
    return SynthesisResult(
        embeddings=torch.cat([embeddings, syn_embeddings.to(embeddings.dtype)]),
        proxies=torch.cat([proxies, syn_proxies.to(proxies.dtype)]),
        labels=torch.cat([labels, syn_labels]),
        lam=lam,
        partner=partner,
        n_real=batch_size,
        n_synthetic=n_synthetic,
        normalized=normalize,
    )


def _check_shapes(embeddings: Tensor, proxies: Tensor, labels: Tensor) -> None:
    """Ranks, dimensions and devices of the operator's inputs (no device sync)."""
    check_float_tensor(embeddings, "embeddings", (2,))
    check_float_tensor(proxies, "proxies", (2, 3))
    dim = embeddings.shape[1]
    if proxies.shape[-1] != dim:
        raise ValueError(f"proxies must have the embeddings' dimension {dim} in their last axis, "
                         f"got shape {tuple(proxies.shape)}")
    check_labels_shape(labels, embeddings.shape[0])
    if labels.device != embeddings.device or proxies.device != embeddings.device:
        raise ValueError(f"embeddings ({embeddings.device}), proxies ({proxies.device}) and labels "
                         f"({labels.device}) must be on one device")


def _check_values(embeddings: Tensor, proxies: Tensor, labels: Tensor, *, pairing: bool) -> None:
    """Finite inputs, labels in range and, when partners are to be drawn, two classes: one device sync in all."""
    n_classes = proxies.shape[0]
    flags = torch.stack([
        ~torch.isfinite(embeddings).all(),
        ~torch.isfinite(proxies).all(),
        ((labels < 0) | (labels >= n_classes)).any(),
        (labels == labels[0]).all() & pairing,
    ])
    raise_flagged(flags, [
        "embeddings hold NaN or infinite values",
        "proxies hold NaN or infinite values",
        lambda: f"labels must lie in [0, {n_classes}) (one proxy per class), got values in "
                f"[{int(labels.min())}, {int(labels.max())}]",
        "labels: a valid pairing needs at least two different classes in the batch",
    ])


def _pairing(labels: Tensor, n_synthetic: int, partner, generator) -> Tensor:
    """The partners of the ceil(S / B) pairings: the given ones (checked), or drawn at random."""
    n_pairings = math.ceil(n_synthetic / labels.shape[0])
    if partner is not None:
        return _check_partner(partner, labels, n_pairings, n_synthetic)
    if n_synthetic > 0:
        return random_partner(labels, n_pairings, generator, check=False)
    return torch.empty(0, dtype=torch.long, device=labels.device)


def _mix(embeddings: Tensor, proxies: Tensor, labels: Tensor, mate: Tensor, lam: float,
         normalize: bool) -> tuple[Tensor, Tensor]:
    """Synthetic embeddings and proxies: synthetic i mixes source i % B (weight lam) with ``mate[i]``."""
    n_synthetic, batch_size = mate.shape[0], embeddings.shape[0]
    if n_synthetic == batch_size:  # mu = 1, the default: the sources are the batch itself, in order
        source_embeddings, source_labels = embeddings, labels
    else:
        source = torch.arange(n_synthetic, device=labels.device) % batch_size
        source_embeddings, source_labels = embeddings[source], labels[source]
    # lerp(b, a, lam) = lam * a + (1 - lam) * b, in one kernel
    syn_embeddings = torch.lerp(embeddings[mate], source_embeddings, lam)
    syn_proxies = torch.lerp(proxies[labels[mate]], proxies[source_labels], lam)
    if normalize:
        syn_embeddings = F.normalize(syn_embeddings, dim=-1)
        syn_proxies = F.normalize(syn_proxies, dim=-1)
    return syn_embeddings, syn_proxies


class ProxySynthesis(nn.Module):
    """Holds the Proxy Synthesis settings (alpha, mu) so a loss can own one; calling it runs `proxy_synthesis`."""

    def __init__(self, alpha: float = RELEASED_ALPHA, mu: float = RELEASED_MU):
        super().__init__()
        self.alpha = check_number(alpha, "alpha", low=0.0, low_open=True)
        self.mu = check_number(mu, "mu", low=0.0)

    def forward(self, embeddings: Tensor, proxies: Tensor, labels: Tensor, **kwargs) -> SynthesisResult:
        return proxy_synthesis(embeddings, proxies, labels, self.alpha, self.mu, **kwargs)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}, mu={self.mu:g}"
