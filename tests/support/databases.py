"""A service's own database for a test: migrated in the test's namespace (a PostgreSQL schema, or a SQLite
file), dropped afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from duban_kit.db import Database
from duban_tasks.app import MIGRATIONS as TASKS_MIGRATIONS


@contextlib.asynccontextmanager
async def tasks_database(url: str, namespace: str) -> AsyncIterator[Database]:
    """The tasks service's tables (inbox, outbox, clock, progress …) — the kit's tests borrow them too."""
    database = Database(url.replace("{service}", "tasks"), schema=namespace, service="tasks")
    await database.migrate(TASKS_MIGRATIONS)
    try:
        yield database
    finally:
        await database.drop_schema()
        await database.dispose()
