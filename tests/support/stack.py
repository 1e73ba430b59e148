"""The four services and the console as real processes, under the runtime's supervisor, isolated per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from unittest import mock

import psycopg

from duban.runtime import Stack
from duban.settings import CONSOLE, SERVICES, RuntimeSettings
from duban_kit.provision import deprovision
from tests.support.servers import free_port


def drop_schemas(postgres_url: str, namespace: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for service in SERVICES:
            conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}_{service}" CASCADE')


@contextlib.asynccontextmanager
async def running_stack(
    *,
    nats_url: str,
    namespace: str,
    home: Path,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    service_env: dict[str, dict[str, str]] | None = None,
) -> AsyncIterator[Stack]:
    ports = {service: free_port() for service in (*SERVICES, CONSOLE)}
    env = {f"DUBAN_{service.upper()}_HTTP_PORT": str(port) for service, port in ports.items()}
    env |= {"DUBAN_NAMESPACE": namespace, "DUBAN_HOME": str(home), "DUBAN_LOG_LEVEL": "INFO"}
    if database_url:
        env["DUBAN_DATABASE_URL"] = database_url
    env |= extra_env or {}
    with mock.patch.dict(os.environ, env):
        settings = RuntimeSettings(nats_url=nats_url, namespace=namespace, home=home, runtime_port=free_port())
        stack = Stack(settings, service_env=service_env or {})
        try:
            await stack.start()
            yield stack
        finally:
            await stack.stop()
            async with stack.client() as nc:
                await deprovision(nc, settings.topology)
            if database_url and database_url.startswith("postgres"):
                await asyncio.to_thread(drop_schemas, database_url, namespace)
