"""Per-seed curves from run histories, lined up on the epochs they share.

Seeds of one setting are compared epoch by epoch (a mean over seeds, a gap between two splits), which needs every
seed's values at the same epochs; the regime rule (`psviz.reproduce.regime`) and the gap figure
(`psviz.viz.generalisation_gap`) both read them this way.
"""

from __future__ import annotations

import numpy as np


def aligned_curves(histories: list[list[dict]], metric: str = "map@r",
                   reference: str = "heldout") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs [E], unseen [S, E], reference [S, E]): ``metric`` of each history (seed) on the unseen classes and on
    the ``reference`` split, at the epochs every history evaluated both on (E is 0 when there are none)."""
    per_seed = [{row["epoch"]: row for row in history
                 if f"unseen/{metric}" in row and f"{reference}/{metric}" in row and "epoch" in row}
                for history in histories]
    epochs = sorted(set.intersection(*(set(rows) for rows in per_seed))) if per_seed else []
    unseen = np.array([[rows[e][f"unseen/{metric}"] for e in epochs] for rows in per_seed], float)
    other = np.array([[rows[e][f"{reference}/{metric}"] for e in epochs] for rows in per_seed], float)
    return np.array(epochs), unseen.reshape(len(per_seed), len(epochs)), other.reshape(len(per_seed), len(epochs))


__all__ = ["aligned_curves"]
