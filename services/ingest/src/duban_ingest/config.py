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
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Largest file accepted by POST /submissions.")
    max_rows: int = Field(default=50_000, description="Most data rows in one uploaded file.")
    max_json_bytes: int = Field(
        default=2 * 1024 * 1024,
        description="Largest JSON body of POST /submissions: a batch of some thousands of submissions.",
    )
    max_json_depth: int = Field(
        default=16,
        description="Deepest nesting of a JSON body: a submission (or a list of them) of plain values is 2 deep.",
    )
    max_cells_per_row: int = Field(
        default=1024,
        description="Most cells in one spreadsheet row, counted while reading (a form is a few dozen columns "
        "wide; Excel 2003 stopped at 256). Stops a one-row bomb after 1,024 cells instead of 1,000,000.",
    )
    max_cells: int = Field(
        default=500_000,
        description="Most cells in one uploaded file, counted while reading: max_rows rows of 10 columns. "
        "openpyxl reads about 100,000 cells a second, so the largest file parses well inside the time budget.",
    )
    sheet_workers: int = Field(
        default=2, ge=1, description="Worker processes that parse uploaded spreadsheets (off the event loop)."
    )
    sheet_parse_seconds: float = Field(
        default=30.0, gt=0, description="Time budget for parsing one uploaded spreadsheet; over it → 422."
    )
    sheet_parse_memory_bytes: int | None = Field(
        default=512 * 1024 * 1024,
        description="Address-space limit of a parsing worker (RLIMIT_AS; an idle one uses about 50 MiB); "
        "a file that needs more → 422. None: no limit.",
    )
