"""The tasks service's app factory."""

from __future__ import annotations

from pathlib import Path

from duban_contracts.plan import load_plan
from duban_kit.service import ServiceRuntime

from .adapters import tables
from .config import TasksSettings
from .entrypoints import console_queries, handlers, http, signoff
from .usecases.signoff import SignOffDesk
from .usecases.tracking import Tracker

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: TasksSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, inbox=tables.inbox, outbox=tables.outbox, migrations=MIGRATIONS)
    tracker = Tracker(
        plan=load_plan(settings.plan_file),
        db=runtime.db,
        inbox=runtime.inbox,
        outbox=runtime.outbox,
        subjects=settings.subjects,
        metrics=runtime.metrics,
        thresholds=settings.thresholds,
    )
    runtime.startup.append(tracker.load_plan)
    handlers.register(runtime, tracker)
    console_queries.register(runtime, tracker)
    runtime.declare_publishers(("task.status_changed", "target.signed_off"))
    runtime.routes.extend(http.routes(tracker, runtime.auth))
    desk = SignOffDesk(
        plan=tracker.plan,
        db=runtime.db,
        inbox=runtime.inbox,
        outbox=runtime.outbox,
        subjects=settings.subjects,
        metrics=runtime.metrics,
    )
    signoff.register(runtime, desk)
    return runtime
