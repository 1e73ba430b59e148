"""`reports.console` and `reports.file`: what the console's report and unit pages ask of reports.

- `status_history` (`level`, `ref`): how a target's (task's, section's, the plan's) completion and
  序时进度 went, from the `task.status_changed` facts reports keeps — the small chart of a target page;
- `units`: reporting completeness and timeliness per unit, year to date, as the reports count it;
- `reports.file`: a generated report's bytes, a slice at a time (NATS carries at most 1 MiB a
  message), so the console serves downloads without a disk or an HTTP path of its own.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from duban_contracts.rpc import ConsoleQuery, Failure, ReportFileChunk, ReportFileRequest
from duban_kit.service import ServiceRuntime

from ..adapters import tables as t
from ..domain.periods import local_midnight
from ..usecases.aggregates import Aggregates
from ..usecases.builder import ReportBuilder
from ..usecases.publishing import ReportDesk
from .timeutil import as_of_instant

MAX_POINTS = 2_000


def register(
    runtime: ServiceRuntime, desk: ReportDesk, aggregates: Aggregates, builder: ReportBuilder, reports_dir: Path
) -> None:
    @runtime.rpc("console")
    async def on_console(query: ConsoleQuery) -> dict[str, Any] | Failure:
        if query.what == "status_history" and query.ref:
            return await status_history(aggregates, query.level or "target", query.ref)
        if query.what == "units":
            # Completeness is about the plan's year: never counted past its last day.
            year_over = local_midnight(builder.plan.year_end + timedelta(days=1))
            as_of = min(as_of_instant(query.as_of) or await aggregates.now() or datetime.now(UTC), year_over)
            async with aggregates.db.read() as conn:
                units = await builder._reporting(conn, as_of)  # the reports' own count, not a second one
            return {"as_of": as_of.isoformat(), "units": [_unit(u) for u in units]}
        return Failure(
            error="unsupported", message=f"reports.console answers status_history or units, not {query.what!r}"
        )

    @runtime.rpc("file")
    async def on_file(request: ReportFileRequest) -> ReportFileChunk | Failure:
        jobs = [j for j in await desk.jobs() if j["report_id"] == request.report_id]
        files = [f for j in jobs for f in j["files"] if f["format"] == request.format]
        if not files:
            return Failure(error="unknown_ref", message=f"no {request.format} file of report {request.report_id!r}")
        found = await asyncio.to_thread(_slice, Path(files[0]["path"]), reports_dir, request.offset, request.length)
        if found is None:
            return Failure(error="gone", message=f"the {request.format} file of {request.report_id} is not on disk")
        path, total, data = found
        return ReportFileChunk(
            report_id=request.report_id,
            format=request.format,
            filename=path.name,
            total=total,
            offset=request.offset,
            data=base64.b64encode(data).decode(),
            sha256=files[0]["sha256"],
        )


def _slice(path: Path, reports_dir: Path, offset: int, length: int) -> tuple[Path, int, bytes] | None:
    """`length` bytes of the file at `offset`; None unless it is a file in the reports' directory."""
    path = path.resolve()
    if not path.is_relative_to(reports_dir.resolve()) or not path.is_file():
        return None
    with path.open("rb") as handle:
        handle.seek(offset)
        return path, path.stat().st_size, handle.read(length)


async def status_history(aggregates: Aggregates, level: str, ref: str) -> dict[str, Any]:
    h = t.status_history
    query = (
        select(h.c.occurred_at, h.c.status, h.c.completion, h.c.expected, h.c.actual)
        .where(h.c.level == level, h.c.ref == ref)
        .order_by(h.c.occurred_at, h.c.revision, h.c.event_id)
        .limit(MAX_POINTS)
    )
    async with aggregates.db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return {
        "level": level,
        "ref": ref,
        "points": [{**dict(r), "occurred_at": r["occurred_at"].isoformat()} for r in rows],
    }


def _unit(unit: Any) -> dict[str, Any]:
    return {
        "unit_id": unit.unit_id,
        "unit_name": unit.unit_name,
        "township": unit.township,
        "expected": unit.expected,
        "received": unit.received,
        "on_time": unit.on_time,
        "rejected": unit.rejected,
    }
