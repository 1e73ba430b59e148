"""Producing reports: schedule them on the event-time clock, render them, store, announce and mail them.

The clock tick that makes reports due records them as jobs in the same transaction that advances
the schedule, so each is produced exactly once however the clock ticks. A worker renders pending
jobs as of their period's end — from facts filtered by event time, so rendering late changes
nothing — writes the files, mails them, and in one transaction marks the job done and stages the
`report.generated` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import and_, func, insert, or_, select, update

from duban_contracts.events import ReportFile, ReportGenerated, derived_event_id
from duban_contracts.subjects import Subjects
from duban_kit.db import Database, insert_missing
from duban_kit.mail import MailError
from duban_kit.messaging import Outbox
from duban_kit.workers import watch_owner

from ..adapters import tables as t
from ..adapters.mail import Mailed, ReportMailer
from ..domain.content import ReportData
from ..domain.periods import Period, ReportKind, local_midnight, parse_period
from ..domain.schedule import ReportSchedule, due_reports, next_due_at
from ..rendering import Format, render, report_file_name
from .builder import ReportBuilder, figures_instant

log = logging.getLogger(__name__)

#: A job claimed longer ago than this is taken to belong to a worker that died.
CLAIM_TIMEOUT = timedelta(minutes=10)
#: Job states before "done" or "failed": queued, claimed (reading the facts), facts read (rendering).
UNFINISHED = ("pending", "running", "rendering")
#: Attempts at a job before it is marked failed.
JOB_ATTEMPTS = 3


@dataclass(frozen=True)
class ReportMetrics:
    generated: Counter
    duration: Histogram


def render_all(data: ReportData, formats: Sequence[Format]) -> dict[str, bytes]:
    """Render one report in every format (runs in a worker process: PDF layout is CPU-bound)."""
    return {fmt: render(data, fmt) for fmt in formats}


class ReportDesk:
    def __init__(
        self,
        *,
        builder: ReportBuilder,
        schedule: ReportSchedule,
        db: Database,
        outbox: Outbox,
        subjects: Subjects,
        reports_dir: Path,
        mailer: ReportMailer,
        formats_by_kind: dict[str, tuple[Format, ...]],
        metrics: ReportMetrics,
    ) -> None:
        self.builder = builder
        self.schedule = schedule
        self.db = db
        self.outbox = outbox
        self.subjects = subjects
        self.reports_dir = reports_dir
        self.mailer = mailer
        self.formats_by_kind = formats_by_kind
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._pool: ProcessPoolExecutor | None = None
        self._rendering: asyncio.Task[None] | None = None  # the job being rendered, mailed and announced
        self._next_due: datetime | None = None
        self._lock = asyncio.Lock()

    # --- scheduling -------------------------------------------------------------------------

    async def prepare(self) -> None:
        """The clock row every replica locks, created once."""
        async with self.db.begin() as conn:
            start = local_midnight(self.builder.plan.year_start)
            await insert_missing(conn, t.clock, [{"id": 1, "now": start, "schedule_evaluated_at": None}], keys=("id",))

    async def on_clock(self, now: datetime) -> None:
        """Record the reports that fell due up to `now` (called after each batch of ticks)."""
        if self._next_due is not None and now < self._next_due:
            return
        async with self._lock, self.db.begin() as conn:
            query = select(t.clock.c.schedule_evaluated_at).where(t.clock.c.id == 1)
            if not self.db.is_sqlite:
                query = query.with_for_update()  # replicas take turns: each report is scheduled once
            row = (await conn.execute(query)).first()
            last = row[0] if row and row[0] else local_midnight(self.builder.plan.year_start)
            if now <= last:
                return
            due = due_reports(self.schedule, last, now)
            for report in due:
                await self._add_job(
                    conn,
                    report.kind,
                    report.period,
                    figures_instant(report.period, report.scheduled_at),
                    report.scheduled_at,
                    deliver=True,
                )
            await conn.execute(update(t.clock).where(t.clock.c.id == 1).values(schedule_evaluated_at=now))
            self._next_due = next_due_at(self.schedule, now)
        if due:
            self._wake.set()

    async def request(self, period_text: str, formats: Sequence[Format], deliver: bool, now: datetime | None) -> str:
        """A report on demand: a job for any period, as of its end (or now, if it has not ended)."""
        period = parse_period(period_text)
        async with self.db.begin() as conn:
            report_id = await self._add_job(
                conn,
                period.kind,
                period,
                figures_instant(period, now),
                now or datetime.now(UTC),
                deliver=deliver,
                formats=formats,
                replace=True,
            )
        self._wake.set()
        return report_id

    async def _add_job(
        self,
        conn: Any,
        kind: ReportKind,
        period: Period,
        as_of: datetime,
        scheduled_at: datetime,
        *,
        deliver: bool,
        formats: Sequence[Format] | None = None,
        replace: bool = False,
    ) -> str:
        report_id = f"{period.key}:{kind.value}"
        chosen = tuple(formats) if formats else self.formats_by_kind.get(kind.value, self.formats_by_kind["default"])
        existing = (
            await conn.execute(select(t.report_jobs.c.status).where(t.report_jobs.c.report_id == report_id))
        ).first()
        values = {
            "kind": kind.value,
            "period": period.key,
            "as_of": as_of,
            "formats": ",".join(chosen),
            "deliver": int(deliver),
            "status": "pending",
            "attempts": 0,
            "error": None,
            "scheduled_at": scheduled_at,
        }
        if existing is None:
            await conn.execute(insert(t.report_jobs).values(report_id=report_id, **values))
        elif replace:
            await conn.execute(update(t.report_jobs).where(t.report_jobs.c.report_id == report_id).values(**values))
        return report_id

    # --- rendering --------------------------------------------------------------------------

    async def run(self) -> None:
        """The worker: render pending jobs, oldest first."""
        try:
            while True:
                self._wake.clear()
                try:
                    worked = await self.work_once()
                except Exception as error:  # database down or a render failure: retry later
                    log.warning("report worker failed: %r", error)
                    worked = 0
                    await asyncio.sleep(2.0)
                if worked:
                    continue
                self._idle.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=5.0)
                self._idle.clear()
        finally:
            if self._rendering is not None:
                self._rendering.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._rendering
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)

    async def pending(self) -> int:
        """Jobs not yet rendered (the runtime waits for none before `duban up --once` exits)."""
        async with self.db.read() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(t.report_jobs).where(t.report_jobs.c.status.in_(UNFINISHED))
            )
        return int(count or 0)

    async def work_once(self) -> int:
        """Claim the oldest job and read its facts; render it in the background.

        One job renders at a time (a PDF takes seconds), in the order claimed, while the worker goes on
        to read the next job's facts: whoever waits for a due report's figures (a replay that must not
        send the next day's facts first) does not wait for the report before it to be rendered.
        """
        job = await self._claim()
        if job is None:
            return 0
        started = time.perf_counter()
        try:
            data = await self._read(job)
        except Exception as error:
            await self._failed(job, error)
            return 1
        previous = self._rendering
        self._rendering = asyncio.create_task(self._finish(job, data, started, previous))
        return 1

    async def _finish(self, job: Any, data: ReportData, started: float, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous  # renders, mails and announcements in the order the jobs were claimed
        try:
            await self._produce(job, data)
        except Exception as error:
            try:
                await self._failed(job, error)
            except Exception as unrecorded:  # the database away: a stale claim is taken up again later
                log.warning("report %s: could not record the failure: %r", job.report_id, unrecorded)
            return
        self.metrics.generated.labels(kind=job.kind).inc()
        self.metrics.duration.labels(kind=job.kind).observe(time.perf_counter() - started)

    async def _failed(self, job: Any, error: BaseException) -> None:
        j = t.report_jobs
        attempts = job.attempts + 1
        status = "failed" if attempts >= JOB_ATTEMPTS else "pending"
        log.error("report %s failed (attempt %d): %r", job.report_id, attempts, error, exc_info=True)
        async with self.db.begin() as conn:
            await conn.execute(
                update(j)
                .where(j.c.report_id == job.report_id)
                .values(status=status, attempts=attempts, error=repr(error)[:2000])
            )
        if status == "pending":
            self._wake.set()

    async def _claim(self) -> Any:
        """Take the oldest pending job (or one a crashed worker left running too long) for this worker."""
        j = t.report_jobs
        now = datetime.now(UTC)
        stale = and_(j.c.status.in_(("running", "rendering")), j.c.claimed_at < now - CLAIM_TIMEOUT)
        claimable = or_(j.c.status == "pending", stale)
        async with self.db.begin() as conn:
            query = select(j.c.report_id).where(claimable).order_by(j.c.scheduled_at, j.c.report_id).limit(5)
            for report_id in (await conn.execute(query)).scalars().all():
                claimed = await conn.execute(
                    update(j).where(j.c.report_id == report_id, claimable).values(status="running", claimed_at=now)
                )
                if claimed.rowcount == 1:
                    return (await conn.execute(select(j).where(j.c.report_id == report_id))).first()
        return None

    async def _read(self, job: Any) -> ReportData:
        period = parse_period(job.period)
        if period.kind.value != job.kind:
            raise ValueError(f"job {job.report_id}: period {job.period} is not a {job.kind}")
        data = await self.builder.build(period, job.as_of)
        # The figures are fixed from here on: whoever waits for the facts to be read (a replay that
        # must not send the next day's reports first) need not wait for the PDF.
        async with self.db.begin() as conn:
            await conn.execute(
                update(t.report_jobs).where(t.report_jobs.c.report_id == job.report_id).values(status="rendering")
            )
        return data

    async def _produce(self, job: Any, data: ReportData) -> list[ReportFile]:
        period = data.period
        formats: tuple[Format, ...] = tuple(job.formats.split(","))
        rendered = await asyncio.get_running_loop().run_in_executor(self._executor(), render_all, data, formats)
        files = await asyncio.to_thread(self._write, period, rendered)
        mailed = await self._mail(job, data, rendered) if job.deliver else None
        event = ReportGenerated(
            event_id=derived_event_id(
                "report.generated", job.report_id, job.as_of.isoformat(), *(f.sha256 for f in files)
            ),
            occurred_at=job.as_of,
            recorded_at=datetime.now(UTC),
            source="reports",
            report_id=job.report_id,
            kind=period.kind.value,
            period=period.key,
            period_start=period.start,
            period_end=period.end,
            title=data.title,
            files=files,
            recipients=list(mailed.recipients) if mailed else [],
        )
        async with self.db.begin() as conn:
            await conn.execute(
                update(t.report_jobs)
                .where(t.report_jobs.c.report_id == job.report_id)
                .values(
                    status="done",
                    attempts=job.attempts + 1,
                    error=None,
                    files=json.dumps([f.model_dump() for f in files], ensure_ascii=False),
                    delivery=mailed.outcome if mailed else None,
                    delivery_detail=mailed.detail if mailed else None,
                )
            )
            await self.outbox.add(conn, [(self.subjects.event(event.event_type), event)])
        await self.outbox.published()
        log.info("report %s written: %s", job.report_id, ", ".join(f.path for f in files))
        return files

    async def _mail(self, job: Any, data: ReportData, rendered: dict[str, bytes]) -> Mailed | None:
        """Mail the report. A refusal that may pass later fails the job, to be tried again while it has attempts
        left; any other, or on the last attempt, is recorded as the mail's outcome and the report goes out."""
        try:
            return await self.mailer.send(job.report_id, data.title, data, rendered)
        except MailError as error:
            if error.transient and job.attempts + 1 < JOB_ATTEMPTS:
                raise
            log.error("report %s was not mailed: %s", job.report_id, error)
            return Mailed("failed", str(error))

    def _write(self, period: Period, rendered: dict[str, bytes]) -> list[ReportFile]:
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for fmt, content in rendered.items():
            path = self.reports_dir / report_file_name(period.kind, period, fmt)  # type: ignore[arg-type]
            temporary = path.with_suffix(path.suffix + ".part")
            temporary.write_bytes(content)
            temporary.replace(path)
            files.append(
                ReportFile(format=fmt, path=str(path), sha256=hashlib.sha256(content).hexdigest(), bytes=len(content))
            )
        return files

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # the renderer ends with the service, even one killed outright
            self._pool = ProcessPoolExecutor(max_workers=1, initializer=watch_owner, initargs=(os.getpid(),))
        return self._pool

    async def jobs(self, status: str | None = None) -> list[dict[str, Any]]:
        j = t.report_jobs
        columns = (j.c.report_id, j.c.kind, j.c.period, j.c.status, j.c.attempts, j.c.error, j.c.files)
        query = select(*columns, j.c.delivery, j.c.delivery_detail).order_by(j.c.scheduled_at, j.c.report_id)
        if status:
            query = query.where(j.c.status == status)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [{**dict(r), "files": json.loads(r["files"]) if r["files"] else []} for r in rows]
