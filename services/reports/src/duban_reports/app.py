"""The reports service's app factory."""

from __future__ import annotations

from pathlib import Path

from duban_contracts.topology import TOPOLOGY
from duban_kit.service import ServiceRuntime

from .adapters import tables
from .config import ReportsSettings
from .entrypoints import handlers
from .usecases.aggregates import Aggregates
from .usecases.facts import FactKeeper

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ReportsSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, inbox=tables.inbox, outbox=tables.outbox, migrations=MIGRATIONS)
    facts = FactKeeper(runtime.db, runtime.inbox, runtime.metrics)
    aggregates = Aggregates(runtime.db)
    handlers.register(runtime, facts, aggregates)
    runtime.declare_publishers(TOPOLOGY["reports"].publishes)
    return runtime
