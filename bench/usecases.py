"""Each service's use case on its own, in this process: no NATS, the real code and a real PostgreSQL.

Batches of `DUBAN_FETCH_BATCH` (256) events go, one call per batch as the kit's `BatchConsumer` makes
it after a fetch, into the unit of work the service registers for them:

- ingest `Intake.take` (inbound submissions → events in the outbox),
- tasks `Tracker.record_progress` (progress → re-judged targets, status changes in the outbox),
- alerts `AlertDesk.incidents` (drownings → safety alerts in the outbox),
- reports `FactKeeper.progress` and `FactKeeper.incidents` (facts kept for reports).

So the rate of each is what that service could reach if the bus cost nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from duban_alerts.app import create_app as create_alerts
from duban_alerts.config import AlertsSettings
from duban_alerts.domain import load_rules, plan_targets
from duban_alerts.usecases.desk import AlertDesk
from duban_contracts.events import Event, IncidentReported, ProgressRecorded, Provenance
from duban_ingest.adapters.translate import accepted_event
from duban_ingest.app import create_app as create_ingest
from duban_ingest.config import IngestSettings
from duban_ingest.domain.model import Incident, Progress
from duban_ingest.domain.normalise import normalise
from duban_ingest.domain.registry import UnitRegistry
from duban_ingest.usecases.intake import Inbound, Intake
from duban_kit.messaging import Outbox
from duban_kit.service import ServiceRuntime
from duban_reports.app import create_app as create_reports
from duban_reports.config import ReportsSettings
from duban_reports.usecases.facts import FactKeeper
from duban_tasks.app import create_app as create_tasks
from duban_tasks.config import TasksSettings
from duban_tasks.usecases.tracking import Tracker

from .workload import RECEIVED_AT, Submission, Workload

BATCH = 256


@dataclass
class UseCaseRate:
    name: str
    events: int
    seconds: float
    batch_seconds: list[float] = field(default_factory=list)
    failed_batches: int = 0
    cut_short: int = 0  # events left when the time budget ran out

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    @property
    def first_batches(self) -> float:
        """Mean seconds of the first tenth of the batches."""
        n = max(1, len(self.batch_seconds) // 10)
        return sum(self.batch_seconds[:n]) / n

    @property
    def last_batches(self) -> float:
        n = max(1, len(self.batch_seconds) // 10)
        return sum(self.batch_seconds[-n:]) / n


async def feed(
    name: str, apply: Callable[[Sequence[Any]], Awaitable[object]], items: list[Any], budget: float
) -> UseCaseRate:
    """Apply `items` BATCH at a time, one call per batch (at most `budget` s)."""
    result = UseCaseRate(name, 0, 0.0)
    started = time.perf_counter()
    for start in range(0, len(items), BATCH):
        began = time.perf_counter()
        batch = items[start : start + BATCH]
        try:
            await apply(batch)
        except Exception:
            result.failed_batches += 1
        result.batch_seconds.append(time.perf_counter() - began)
        result.events += len(batch)
        if time.perf_counter() - started > budget:
            result.cut_short = len(items) - result.events
            break
    result.seconds = time.perf_counter() - started
    return result


def events_of(workload: Workload, submissions: list[Submission]) -> list[Event]:
    events: list[Event] = []
    for submission in submissions:
        verdict = normalise(json.loads(submission.body), workload.context)
        if isinstance(verdict, Progress | Incident):
            events.append(accepted_event(verdict, submission.submission_id, RECEIVED_AT, Provenance()))
    return events


async def _prepared(runtime: ServiceRuntime) -> ServiceRuntime:
    await runtime.db.migrate(runtime.migrations)
    return runtime


async def measure(
    database_url: str,
    namespace: str,
    *,
    count: int = 10_240,
    budget: float = 20.0,
    progress: Callable[[str], None] = print,
) -> list[UseCaseRate]:
    workload = Workload(f"{namespace}-u")
    progress_events = events_of(workload, [workload.next("progress") for _ in range(count)])
    incident_events = events_of(workload, [workload.next("incident") for _ in range(count // 4)])
    inbound = [
        Inbound(s.submission_id, n, json.loads(s.body), datetime.now(UTC))
        for n, s in enumerate(workload.take(count), start=1)
    ]
    common: dict[str, Any] = {"namespace": namespace, "database_url": database_url}
    runtimes: list[ServiceRuntime] = []
    results: list[UseCaseRate] = []
    try:
        ingest = await _prepared(create_ingest(IngestSettings(**common)))
        runtimes.append(ingest)
        intake = Intake(
            plan=workload.plan,
            registry=UnitRegistry.load(),
            db=ingest.db,
            outbox=Outbox(ingest.outbox.table),  # no relay: the use case alone
            subjects=ingest.settings.subjects,
            metrics=ingest.metrics,
            rejected_counter=Counter("rejected", "", ["code"], registry=CollectorRegistry()),
        )
        results.append(await feed("ingest: Intake.take (submissions)", intake.take, inbound, budget))

        tasks = await _prepared(create_tasks(TasksSettings(**common)))
        runtimes.append(tasks)
        tracker = Tracker(
            plan=workload.plan,
            db=tasks.db,
            inbox=tasks.inbox,
            outbox=Outbox(tasks.outbox.table),  # no relay: the use case alone
            subjects=tasks.settings.subjects,
            metrics=tasks.metrics,
        )
        await tracker.load_plan()
        progress_only = [e for e in progress_events if isinstance(e, ProgressRecorded)]
        results.append(await feed("tasks: Tracker.record_progress", tracker.record_progress, progress_only, budget))

        alerts = await _prepared(create_alerts(AlertsSettings(**common)))
        runtimes.append(alerts)
        desk = AlertDesk(
            rules=load_rules(None),
            targets=plan_targets(workload.plan, active_from=workload.plan.published),
            db=alerts.db,
            inbox=alerts.inbox,
            outbox=Outbox(alerts.outbox.table),  # no relay: the use case alone
            subjects=alerts.settings.subjects,
            metrics=alerts.metrics,
        )
        incidents = [e for e in incident_events if isinstance(e, IncidentReported)]
        results.append(await feed("alerts: AlertDesk.incidents (drownings)", desk.incidents, incidents, budget))

        reports = await _prepared(create_reports(ReportsSettings(**common)))
        runtimes.append(reports)
        facts = FactKeeper(reports.db, reports.inbox, reports.metrics)
        results.append(await feed("reports: FactKeeper.progress", facts.progress, progress_only, budget))
        results.append(await feed("reports: FactKeeper.incidents", facts.incidents, incidents, budget))
    finally:
        for runtime in runtimes:
            await runtime.db.drop_schema()
            await runtime.db.dispose()
    for r in results:
        failed = f", {r.failed_batches} batches failed" if r.failed_batches else ""
        failed += f", stopped after {budget:.0f}s with {r.cut_short:,} left" if r.cut_short else ""
        progress(
            f"  {r.name}: {r.rate:,.0f} events/s ({r.events:,} in {r.seconds:.1f}s; a batch of {BATCH} took "
            f"{r.first_batches * 1000:,.0f} ms at first, {r.last_batches * 1000:,.0f} ms at the end{failed})"
        )
    return results
