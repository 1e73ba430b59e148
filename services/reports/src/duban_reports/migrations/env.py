"""Alembic environment of the reports service (run by `Database.migrate`, or by `alembic` by hand)."""

from alembic import context

from duban_kit.migrations import run_migrations
from duban_reports.adapters.tables import metadata

run_migrations(context, metadata)
