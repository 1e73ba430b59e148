"""`duban report --period … --format … --out DIR`: a report on demand, from the running service."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from duban_contracts.rpc import AggregateQuery, ReportRequest
from duban_contracts.subjects import Subjects
from duban_kit.cli import namespace, request


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    period: Annotated[str, typer.Option(help="2023-Q2, 2023-06, 2023-W23, 2023, or 2023-03-01..2023-03-15.")],
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: pdf,html,xlsx,md.")] = "html,pdf,xlsx,md",
    out: Annotated[Path | None, typer.Option(help="Copy the files here too.")] = None,
    deliver: Annotated[bool, typer.Option(help="Also e-mail it to the leaders.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for it.")] = 300.0,
) -> None:
    """Generate a report for any period (asks the running reports service) and wait for its files."""
    subjects = Subjects(namespace())
    body = ReportRequest(period=period, formats=[f.strip() for f in formats.split(",") if f.strip()], deliver=deliver)
    reply = asyncio.run(request(subjects.rpc("reports", "generate"), body))
    if not reply.get("ok"):
        raise SystemExit(reply.get("message", "refused"))
    report_id = reply["data"]["report_id"]
    job = _wait(subjects, report_id, timeout)
    if job["status"] != "done":
        raise SystemExit(f"report {report_id} {job['status']}: {job.get('error')}")
    if job.get("delivery"):  # sent, written (to a file only: nobody received it) or failed
        print(f"mail {job['delivery']}: {job.get('delivery_detail')}", file=sys.stderr)
    for file in job["files"]:
        path = Path(file["path"])
        target = path
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            target = out / path.name
            shutil.copyfile(path, target)
        print(target)


def _wait(subjects: Subjects, report_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        reply = asyncio.run(request(subjects.rpc("reports", "query"), AggregateQuery(name="reports")))
        job = next((j for j in reply["reports"] if j["report_id"] == report_id), None)
        if job is not None and job["status"] in ("done", "failed"):
            return dict(job)
        if time.monotonic() > deadline:
            raise SystemExit(f"report {report_id} not ready after {timeout}s")
        time.sleep(0.5)
