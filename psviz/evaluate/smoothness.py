"""How sharp a trained loss's decision boundaries are, and how sure it is about classes it never saw.

The paper claims Proxy Synthesis gives "smooth decision boundaries" (paper.md, abstract). These measures make that
checkable: walk the great-circle path between neighbouring seen proxies and see how much of it the loss is unsure
about, and how confidently it assigns unseen-class embeddings to seen classes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..base.checks import check_float_tensor, check_number, check_int
from .geometry import _class_centres

_CHUNK = 8192


def great_circle(a: Tensor, b: Tensor, steps: int) -> Tensor:
    """[n, steps, d] unit vectors from a (t=0) to b (t=1) along the great circle, evenly spaced in angle (slerp)."""
    a, b = F.normalize(a.double(), dim=-1), F.normalize(b.double(), dim=-1)
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)[None, :, None]
    omega = torch.arccos((a * b).sum(-1).clamp(-1.0, 1.0))[:, None, None]
    sin = torch.sin(omega)
    safe = sin > 1e-9
    wa = torch.where(safe, torch.sin((1 - t) * omega) / sin.clamp_min(1e-9), 1 - t)
    wb = torch.where(safe, torch.sin(t * omega) / sin.clamp_min(1e-9), t)
    return F.normalize(wa * a[:, None, :] + wb * b[:, None, :], dim=-1)


def neighbour_pairs(proxies: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each seen class with its nearest other class, as unordered pairs (each pair once).

    Returns (centre a [P, d], centre b [P, d], class pairs [P, 2]): for classes with K centres, the two closest
    centres of the pair. Nearest means the largest cosine between any centre of one and any centre of the other.
    """
    centres = _class_centres(proxies)
    n_classes, k, d = centres.shape
    if n_classes < 2:
        raise ValueError(f"proxies: neighbouring pairs need at least two classes, got {n_classes}")
    flat = centres.reshape(-1, d)
    cos = (flat @ flat.T).view(n_classes, k, n_classes, k).amax(dim=(1, 3))
    cos.fill_diagonal_(-2.0)
    nearest = cos.argmax(dim=1)
    pairs = torch.stack([torch.arange(n_classes), nearest], dim=1).sort(dim=1).values.unique(dim=0)
    block = torch.einsum("pkd,pld->pkl", centres[pairs[:, 0]], centres[pairs[:, 1]]).reshape(len(pairs), -1)
    best = block.argmax(dim=1)
    return centres[pairs[:, 0], best // k], centres[pairs[:, 1], best % k], pairs


def _probabilities(loss, rows: Tensor) -> Tensor:
    device, dtype = loss.proxies.device, loss.proxies.dtype
    return torch.cat([loss.probabilities(chunk.to(device, dtype)).double().cpu() for chunk in rows.split(_CHUNK)])


def _check_loss(loss) -> None:
    if not (hasattr(loss, "probabilities") and hasattr(loss, "proxy_tensor")):
        raise ValueError(f"loss must be a psviz loss (psviz.losses.create(...)), got {type(loss).__name__}")


def boundary_smoothness(loss, threshold: float = 0.9, *, steps: int = 65, radius: float = 1.0) -> dict:
    """The loss's softmax over the seen classes along the great circle between each pair of neighbouring proxies.

    A point of a path is in the *transition zone* when its top probability is below ``threshold``. Returns
    ``transition_width`` (the share of all path points in the zone, in [0, 1]), ``transition_degrees`` (the zone's
    mean width along a path, in degrees), ``zone_entropy`` (the mean entropy, in nats, of the zone's points; 0 when
    there is no zone), ``mean_pair_degrees`` (the mean angle between the paired proxies) and ``n_pairs``.
    A smooth boundary is a wide zone with high entropy; a sharp one flips from one class to the next in a few degrees.
    ``radius`` scales the path points for a loss that does not L2-normalise embeddings (the plain Softmax).
    """
    _check_loss(loss)
    threshold = check_number(threshold, "threshold", low=0.0, high=1.0, low_open=True, high_open=True)
    steps = check_int(steps, "steps", minimum=3)
    radius = check_number(radius, "radius", low=0.0, low_open=True)
    a, b, pairs = neighbour_pairs(loss.proxy_tensor().detach().float().cpu())
    paths = great_circle(a, b, steps)
    probs = _probabilities(loss, (radius * paths).reshape(-1, paths.shape[-1]))
    top = probs.max(dim=1).values.view(len(pairs), steps)
    in_zone = top < threshold
    entropy = -(probs * probs.clamp_min(1e-300).log()).sum(dim=1).view(len(pairs), steps)
    angle = torch.rad2deg(torch.arccos((F.normalize(a.double(), dim=-1) * F.normalize(b.double(), dim=-1))
                                       .sum(-1).clamp(-1.0, 1.0)))
    share = in_zone.double().mean(dim=1)
    return {"transition_width": float(share.mean()),
            "transition_degrees": float((share * angle).mean()),
            "zone_entropy": float(entropy[in_zone].mean()) if in_zone.any() else 0.0,
            "mean_pair_degrees": float(angle.mean()),
            "n_pairs": int(len(pairs))}


def top_probabilities(loss, embeddings: Tensor) -> Tensor:
    """Each embedding's top softmax probability over the loss's seen classes ([N], float64 on the CPU)."""
    _check_loss(loss)
    check_float_tensor(embeddings, "embeddings", (2,))
    return _probabilities(loss, embeddings.detach()).max(dim=1).values


def unseen_confidence(loss, embeddings: Tensor) -> float:
    """The mean top probability the loss gives ``embeddings`` over its seen classes.

    Fed unseen-class embeddings, it says how sure the model is that a new class is one of the old ones: 1 means every
    new item is assigned to some seen class with full confidence, 1 / n_classes that the loss has no opinion.
    """
    top = top_probabilities(loss, embeddings)
    if not math.isfinite(float(top.sum())):
        raise ValueError("embeddings hold NaN or infinite values")
    return float(top.mean())


__all__ = ["boundary_smoothness", "great_circle", "neighbour_pairs", "top_probabilities", "unseen_confidence"]
