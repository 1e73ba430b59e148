"""Settings of the ingest service (environment: DUBAN_* or DUBAN_INGEST_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from duban_kit.settings import ServiceSettings


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
