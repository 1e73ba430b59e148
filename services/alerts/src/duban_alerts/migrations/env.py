"""Alembic environment of the alerts service (run by `Database.migrate`, or by `alembic` by hand)."""

from alembic import context

from duban_alerts.adapters.tables import metadata
from duban_kit.migrations import run_migrations

run_migrations(context, metadata)
