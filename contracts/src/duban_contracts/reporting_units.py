"""The registry of reporting units as shared reference data: schools, the bureau's sections, others.

Like the plan, it is data every service may read: ingest resolves names against it, reports counts
who was expected to report, the simulator draws its schools from it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

BUNDLED_UNITS = "reporting-units.yaml"


class ReportingUnit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str
    kind: Literal["school", "section", "external"]
    township: str | None = None
    stage: str | None = None
    aliases: tuple[str, ...] = ()
    simulated: bool = False


class UnitRegistryData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    version: int = 1
    district: str | None = None
    units: tuple[ReportingUnit, ...] = Field(default=())


def registry_text(path: str | Path | None = None) -> str:
    if path is None:
        return resources.files(__package__).joinpath(BUNDLED_UNITS).read_text(encoding="utf-8")
    return Path(path).read_text(encoding="utf-8")


def load_reporting_units(path: str | Path | None = None) -> UnitRegistryData:
    """The units in the YAML file at `path`, or the bundled registry."""
    return UnitRegistryData.model_validate(yaml.safe_load(registry_text(path)))
