"""The ingest service's app factory."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import Counter

from duban_contracts.plan import load_plan
from duban_contracts.topology import TOPOLOGY
from duban_kit.service import ServiceRuntime

from .adapters import log_masking, tables
from .adapters.sheet_pool import ParseBudget, SheetPool
from .config import IngestSettings
from .domain.integrations import IntegrationRegistry
from .domain.privacy import PersonalDataMask
from .domain.registry import UnitRegistry
from .entrypoints import console_queries, handlers, http
from .usecases.intake import Intake

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IngestSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, inbox=tables.inbox, outbox=tables.outbox, migrations=MIGRATIONS)
    mask = PersonalDataMask(settings.privacy_key())
    rejected = Counter(
        "duban_submissions_rejected",
        "Submissions rejected by ingest, by rejection code.",
        ["code"],
        registry=runtime.metrics.registry,
    )
    units = UnitRegistry.load(settings.registry_file)
    integrations = IntegrationRegistry.load(settings.integrations_file, units) if settings.integrations_file else None
    intake = Intake(
        plan=load_plan(settings.plan_file),
        registry=units,
        db=runtime.db,
        outbox=runtime.outbox,
        subjects=settings.subjects,
        metrics=runtime.metrics,
        rejected_counter=rejected,
        limits=settings.limits(),
        integrations=integrations,
        mask=mask,
    )
    _mask_logs(runtime)
    handlers.register(runtime, intake)
    console_queries.register(runtime, intake)
    runtime.declare_publishers(TOPOLOGY["ingest"].publishes)
    sheets = SheetPool(
        http.file_limits(settings),
        ParseBudget(settings.sheet_parse_seconds, settings.sheet_parse_memory_bytes),
        workers=settings.sheet_workers,
    )
    runtime.startup.append(sheets.start)
    runtime.shutdown.append(sheets.close)
    runtime.routes.extend(http.routes(settings, lambda: runtime.jetstream, runtime.auth, sheets))
    return runtime


def _mask_logs(runtime: ServiceRuntime) -> None:
    """Mask personal data in every log line while ingest runs (logging is configured before start)."""
    log_filter = log_masking.MaskingFilter()

    async def install() -> None:
        log_masking.install(log_filter)

    async def uninstall() -> None:
        log_masking.uninstall(log_filter)

    runtime.startup.append(install)
    runtime.shutdown.append(uninstall)
