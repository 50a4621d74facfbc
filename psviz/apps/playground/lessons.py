"""The Playground's lessons: each a link (``?lesson=N``) that opens on settings of the effect map's toy, hides the
controls it keeps fixed, and says on the page what to look for and what the map found there.

Each sentence quotes cells of the map (docs/RESULTS.md, "When PS helps"); ``cells`` names them in the order their
numbers appear, and a test reads those numbers back from the stored runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    """One lesson: its title, its settings as a query string, what to look for, and the map cells it quotes as
    (level, loss, ρ) in the order of the sentence's numbers."""

    title: str
    query: str
    look_for: str
    cells: tuple[tuple[str, str, float], ...]


LESSONS = (
    Lesson("Where PS hurts: 8 seen classes, ρ 4",
           "classes=8&emb=3&loss=norm_softmax&mu=0.5&hide=classes,loss,lr,seed",
           "Look at the two unseen MAP@R curves: on the map PS is behind the baseline in this cell (toy-8 "
           "norm_softmax long ρ 4: -13.66 points, Holm-significant), one of the two neighbouring cells where PS "
           "hurts.",
           (("toy-8", "norm_softmax", 4.0),)),
    Lesson("What μ does: 8 seen classes, ρ from 0.25 up",
           "classes=8&emb=3&loss=norm_softmax&mu=0.03125&hide=classes,loss,lr,seed,emb",
           "Raise μ step by step (ρ follows) and rerun: on the map PS's shortfall grows with ρ at 8 seen classes, "
           "from -5.14 points at ρ 0.25 to -14.54 at ρ 16 (μ = 2).",
           (("toy-8", "norm_softmax", 0.25), ("toy-8", "norm_softmax", 16.0))),
    Lesson("No difference to detect: 24 seen classes",
           "classes=24&emb=3&loss=norm_softmax&hide=loss,lr",
           "Expect the two runs' curves to stay close: with 24 seen classes the map found no difference detectable at "
           "its power (toy-24 norm_softmax long ρ 1.29: +1.02 points, Holm p 1).",
           (("toy-24", "norm_softmax", 1.3),)),
    Lesson("Where PS helps: CosFace at 12 seen classes",
           "classes=12&emb=3&loss=cosface&mu=0.25&hide=classes,loss",
           "Watch PS's unseen MAP@R against the baseline's over the 270 epochs: this is the one toy cell of the map "
           "where PS is Holm-significantly ahead (toy-12 cosface long ρ 1.3: +5.01 points).",
           (("toy-12", "cosface", 1.3),)),
)


def lesson(number: int) -> Lesson:
    """Lesson ``number`` (from 1)."""
    if not 1 <= number <= len(LESSONS):
        raise ValueError(f"lesson must be from 1 to {len(LESSONS)}, got {number}")
    return LESSONS[number - 1]


__all__ = ["LESSONS", "Lesson", "lesson"]
