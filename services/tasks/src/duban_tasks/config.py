"""Settings of the tasks service (environment: DUBAN_* or DUBAN_TASKS_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from duban_kit.settings import ServiceSettings

from .domain.status import Thresholds


class TasksSettings(ServiceSettings):
    service_name: ClassVar[str] = "tasks"

    plan_file: Path | None = Field(default=None, description="The plan to track; default the bundled 2023 plan.")
    on_track_ratio: float = Field(default=Thresholds.on_track, gt=0, le=1)
    lagging_ratio: float = Field(default=Thresholds.lagging, gt=0, le=1)
    grace_share: float = Field(default=Thresholds.grace, ge=0, lt=1)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(on_track=self.on_track_ratio, lagging=self.lagging_ratio, grace=self.grace_share)
