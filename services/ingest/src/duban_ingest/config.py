"""Settings of the ingest service (environment: DUBAN_* or DUBAN_INGEST_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from duban_kit.settings import ServiceSettings

from .domain.normalise import Limits

#: The defaults, and the reason for each, are `Limits`' own (domain/normalise.py).
_DEFAULT = Limits()


class IngestSettings(ServiceSettings):
    service_name: ClassVar[str] = "ingest"

    plan_file: Path | None = Field(
        default=None, description="The plan targets are matched against; default the bundled 2023 plan."
    )
    registry_file: Path | None = Field(
        default=None, description="The registry of reporting units; default the bundled one."
    )
    integrations_file: Path | None = Field(
        default=None,
        description="Which units each integration may speak for (domain/integrations.py). Unset: every "
        "integration may submit for every unit (development default).",
    )
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Largest file accepted by POST /submissions.")
    max_rows: int = Field(default=50_000, description="Most data rows in one uploaded file.")

    max_submission_bytes: int = Field(
        default=_DEFAULT.max_submission_bytes, gt=0, description="Largest inbound message read (else too_large)."
    )
    max_json_depth: int = Field(
        default=_DEFAULT.max_json_depth, ge=1, description="Deepest JSON nesting read (else too_deep)."
    )
    implausible_factor: float = Field(
        default=_DEFAULT.implausible_factor, gt=0, description="An increment is at most this × the annual target."
    )
    cumulative_factor: float = Field(
        default=_DEFAULT.cumulative_factor, gt=0, description="A cumulative total is at most this × the annual target."
    )
    growth_min: float = Field(default=_DEFAULT.growth_min, description="Lowest growth accepted (-1 is -100%).")
    growth_max: float = Field(default=_DEFAULT.growth_max, description="Highest growth accepted (10 is 1000%).")
    class_size_min: int = Field(default=_DEFAULT.class_size_min, ge=0, description="Smallest class size accepted.")
    class_size_max: int = Field(default=_DEFAULT.class_size_max, ge=1, description="Largest class size accepted.")
    exercise_minutes_max: float = Field(
        default=_DEFAULT.exercise_minutes_max, gt=0, description="Most daily exercise minutes accepted."
    )

    def limits(self) -> Limits:
        """The normalisation limits these settings give (the others keep `Limits`' defaults)."""
        return Limits(
            max_submission_bytes=self.max_submission_bytes,
            max_json_depth=self.max_json_depth,
            implausible_factor=self.implausible_factor,
            cumulative_factor=self.cumulative_factor,
            growth_min=self.growth_min,
            growth_max=self.growth_max,
            class_size_min=self.class_size_min,
            class_size_max=self.class_size_max,
            exercise_minutes_max=self.exercise_minutes_max,
        )
