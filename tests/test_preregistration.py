"""The pre-registration (docs/PREREGISTRATION.md) and the code's plan must say the same thing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from psviz.analysis.stats import CONFIDENCE
from psviz.apps.reproduce.effect_map import EffectMapPlan
from psviz.apps.reproduce.effect_results import FAMILYWISE, PRIMARY, SECONDARY
from psviz.apps.reproduce.pretrained import PretrainedPlan

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "PREREGISTRATION.md"


def registered() -> dict:
    """The YAML block of the document's "The plan as data" section."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "the pre-registration holds exactly one yaml block"
    return yaml.safe_load(blocks[0])


def _normalised(effect: dict) -> dict:
    """Per-level values as {level: value}, whether the document gives one list for all levels or one per level."""
    out = {k: v for k, v in effect.items() if k != "datasets"}
    out["datasets"] = {}
    for name, entry in effect["datasets"].items():
        levels = entry["levels"]
        seeds = entry["seeds"]
        out["datasets"][name] = {**entry, "seeds": seeds if isinstance(seeds, dict) else {c: seeds for c in levels},
                                 "extra_mu": entry.get("extra_mu", {})}
    return out


def test_effect_map_plan_equals_the_document():
    assert _normalised(EffectMapPlan().as_dict()) == _normalised(registered()["effect_map"])


def test_pretrained_plan_equals_the_document():
    assert PretrainedPlan().as_dict() == registered()["pretrained"]


def test_the_statistics_are_the_registered_ones():
    assert registered()["test"] == {"confidence": CONFIDENCE, "familywise": pytest.approx(FAMILYWISE),
                                    "primary_metric": PRIMARY, "secondary_metric": SECONDARY}


def test_a_changed_plan_is_caught():
    """The comparison is not vacuous: one seed less on one level makes the two differ."""
    plan = EffectMapPlan()
    changed = EffectMapPlan(levels=(plan.levels[0].__class__(**{**plan.levels[0].__dict__, "seeds": (0, 1)}),
                                    *plan.levels[1:]))
    assert _normalised(changed.as_dict()) != _normalised(registered()["effect_map"])


def test_the_document_is_only_amended():
    """The plan's own commit holds the document alone; later commits may only add to it (amendments)."""
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True, text=True)
    if shallow.stdout.strip() != "false":
        pytest.skip("not a full git checkout (shallow, or no git)")
    log = subprocess.run(["git", "log", "--format=%H", "--follow", "--", str(DOC)], cwd=ROOT, capture_output=True,
                         text=True)
    commits = log.stdout.split()
    if log.returncode != 0 or not commits:
        pytest.skip("not a git checkout with the document's history")
    first = commits[-1]
    files = subprocess.run(["git", "show", "--name-only", "--format=", first], cwd=ROOT, capture_output=True,
                           text=True).stdout.split()
    assert files == ["docs/PREREGISTRATION.md"]
    original = subprocess.run(["git", "show", f"{first}:docs/PREREGISTRATION.md"], cwd=ROOT, capture_output=True,
                              text=True).stdout
    head, _, _ = original.partition("## Amendments")
    assert DOC.read_text(encoding="utf-8").startswith(head), "the plan above '## Amendments' was rewritten"
