"""The ingest service's app factory."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import Counter

from duban_contracts.plan import load_plan
from duban_contracts.topology import TOPOLOGY
from duban_kit.service import ServiceRuntime

from .adapters import tables
from .config import IngestSettings
from .domain.registry import UnitRegistry
from .entrypoints import console_queries, handlers, http
from .usecases.intake import Intake

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IngestSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, inbox=tables.inbox, outbox=tables.outbox, migrations=MIGRATIONS)
    rejected = Counter(
        "duban_submissions_rejected",
        "Submissions rejected by ingest, by rejection code.",
        ["code"],
        registry=runtime.metrics.registry,
    )
    intake = Intake(
        plan=load_plan(settings.plan_file),
        registry=UnitRegistry.load(settings.registry_file),
        db=runtime.db,
        outbox=runtime.outbox,
        subjects=settings.subjects,
        metrics=runtime.metrics,
        rejected_counter=rejected,
        limits=settings.limits(),
    )
    handlers.register(runtime, intake)
    console_queries.register(runtime, intake)
    runtime.declare_publishers(TOPOLOGY["ingest"].publishes)
    runtime.routes.extend(http.routes(settings, lambda: runtime.jetstream, runtime.auth))
    return runtime
