"""A service process migrates its database in a child (`Database.migrate_apart`): the schema is at head, the
service never loads alembic, and a failure says which service and why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from duban_alerts.app import create_app
from duban_alerts.config import AlertsSettings
from duban_kit.db import MigrationFailed


async def test_the_child_brings_the_schema_to_head(database_url: str, namespace: str, tmp_path: Path) -> None:
    runtime = create_app(AlertsSettings(namespace=namespace, database_url=database_url, home=tmp_path))
    try:
        await runtime.db.migrate_apart(runtime.migrations)
        await runtime.db.migrate_apart(runtime.migrations)  # at head already: nothing to do, no error
        async with runtime.db.read() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM book_rows")) == 0
            assert await conn.scalar(text("SELECT version_num FROM alembic_version")) is not None
    finally:
        await runtime.db.drop_schema()
        await runtime.db.dispose()


async def test_a_failed_migration_names_the_service_and_the_reason(tmp_path: Path) -> None:
    runtime = create_app(AlertsSettings(namespace="tmig", database_url=f"sqlite:///{tmp_path}/a.db", home=tmp_path))
    try:
        with pytest.raises(MigrationFailed, match=r"migrating alerts's database .*nowhere.*exit code 1: \w+"):
            await runtime.db.migrate_apart(tmp_path / "nowhere")
    finally:
        await runtime.db.dispose()


def test_a_service_that_migrated_apart_has_not_loaded_alembic(tmp_path: Path) -> None:
    script = f"""
import asyncio, sys
from duban_alerts.app import create_app
from duban_alerts.config import AlertsSettings
runtime = create_app(AlertsSettings(namespace="tmig", database_url="sqlite:///{tmp_path}/a.db", home="{tmp_path}"))
from sqlalchemy import text
async def main():
    await runtime.db.migrate_apart(runtime.migrations)
    async with runtime.db.read() as conn:
        rows = await conn.scalar(text("SELECT count(*) FROM book_rows"))
    await runtime.db.dispose()
    print(rows, sorted(m for m in sys.modules if m.split(".")[0] in ("alembic", "mako", "pygments")))
asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "0 []"  # the tables are there; alembic is not
