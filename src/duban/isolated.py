"""The four services and the console as real processes, isolated in a namespace of their own.

One fixture for the tests and the benchmarks: each run gets free HTTP ports, its own stream and
subject prefix, its own schemas (PostgreSQL) or SQLite files under `home`, and removes what it made
when it stops — so runs never see each other's state, and nothing is left for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from unittest import mock

from duban_kit.provision import deprovision

from .runtime import Stack
from .settings import PROCESSES, SERVICES, RuntimeSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drop_schemas(postgres_url: str, prefix: str) -> None:
    """Drop every schema whose name starts with `prefix` (a run's namespace and an underscore)."""
    import psycopg  # only PostgreSQL runs need it

    if not re.fullmatch(r"[a-z][a-z0-9_]*", prefix):
        raise ValueError(f"unsafe schema prefix {prefix!r}")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix.replace("_", r"\_") + "%",)
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@contextlib.asynccontextmanager
async def isolated_stack(
    *,
    nats_url: str,
    namespace: str,
    home: Path,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    service_env: dict[str, dict[str, str]] | None = None,
    services: tuple[str, ...] | None = None,
) -> AsyncIterator[Stack]:
    """Start every process under the runtime's supervisor; stop them and remove their streams and schemas.

    `database_url` None: the default stack, as `duban up` runs it — each service on its own SQLite file
    under `home`/var. `services`: only those services (by default all four; the console runs beside them).
    """
    env = {f"DUBAN_{process.upper()}_HTTP_PORT": str(free_port()) for process in PROCESSES}
    env |= {"DUBAN_NAMESPACE": namespace, "DUBAN_HOME": str(home), "DUBAN_LOG_LEVEL": "INFO"}
    if database_url:
        env["DUBAN_DATABASE_URL"] = database_url
    env |= extra_env or {}
    with mock.patch.dict(os.environ, env):
        settings = RuntimeSettings(nats_url=nats_url, namespace=namespace, home=home, runtime_port=free_port())
        stack = Stack(settings, service_env=service_env or {}, services=services or SERVICES)
        try:
            await stack.start()
            yield stack
        finally:
            await stack.stop()
            async with stack.client() as nc:
                await deprovision(nc, settings.topology)
            if database_url and database_url.startswith("postgres"):
                await asyncio.to_thread(drop_schemas, database_url, f"{namespace}_")
