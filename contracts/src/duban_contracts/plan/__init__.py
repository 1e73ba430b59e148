"""The work plan as data, and the reviewed 2023 Bazhou plan that duban loads by default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from .model import Comparator, Milestone, PlacedTarget, Plan, Schedule, Section, Target, TargetKind, Task

__all__ = [
    "BUNDLED_PLAN",
    "Comparator",
    "Milestone",
    "PlacedTarget",
    "Plan",
    "Schedule",
    "Section",
    "Target",
    "TargetKind",
    "Task",
    "load_plan",
    "parse_plan",
]

BUNDLED_PLAN = "bazhou-2023.yaml"


def parse_plan(text: str) -> Plan:
    """A plan from its YAML (or JSON) text."""
    return Plan.model_validate(yaml.safe_load(text))


def load_plan(path: str | Path | None = None) -> Plan:
    """The plan at `path`, or the bundled 2023 Bazhou plan."""
    if path is None:
        text = resources.files(__package__).joinpath(BUNDLED_PLAN).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_plan(text)
