"""Alembic environment of the tasks service (run by `Database.migrate`, or by `alembic` by hand)."""

from alembic import context

from duban_kit.migrations import run_migrations
from duban_tasks.adapters.tables import metadata

run_migrations(context, metadata)
