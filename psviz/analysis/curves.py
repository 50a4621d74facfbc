"""Per-seed curves from run histories, lined up on the epochs they share, and the generalisation gap over them.

Seeds of one setting are compared epoch by epoch (a mean over seeds, a gap between two splits), which needs every
seed's values at the same epochs; the regime rule (`psviz.apps.reproduce.regime`) and the gap figure
(`psviz.viz.generalisation_gap`, from `gap_series`) both read them this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .runs import run_history


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


REFERENCES = ("heldout", "seen")


def _histories(run, name: str) -> list[list[dict]]:
    """A run-like, or a list of them (one per seed), as a list of histories."""
    if isinstance(run, Sequence) and not isinstance(run, str) and run and not isinstance(run[0], Mapping):
        return [run_history(r, name) for r in run]
    return [run_history(run, name)]


def gap_series(runs: dict, *, metric: str = "map@r", reference: str = "heldout") -> dict:
    """Per run: epochs and the seed mean / sample std of the unseen and reference scores and their gap (fractions).

    Only epochs every seed evaluated on both splits are kept. Raises ValueError when a run has no such epoch.
    """
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {', '.join(REFERENCES)}, got {reference!r}")
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict of name -> FitResult, history, or a list of them (seeds)")
    out = {}
    for name, run in runs.items():
        histories = _histories(run, str(name))
        epochs, unseen, ref = aligned_curves(histories, metric, reference)
        if not len(epochs):
            raise ValueError(f"runs[{name!r}] has no epoch with both 'unseen/{metric}' and '{reference}/{metric}' "
                             f"(train with holdout_per_class > 0 for 'heldout', or eval_seen=True for 'seen')")
        series = {"epochs": epochs, "n_seeds": len(histories)}
        for key, values in (("unseen", unseen), ("reference", ref), ("gap", ref - unseen)):
            series[f"{key}_mean"] = values.mean(axis=0)
            series[f"{key}_std"] = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(len(epochs))
        out[str(name)] = series
    return out


__all__ = ["REFERENCES", "aligned_curves", "gap_series"]
