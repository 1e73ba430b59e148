"""Fixtures: real NATS and PostgreSQL, and an isolated namespace (subjects, streams, schemas) per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.provision import deprovision, provision
from tests.support.servers import nats_server, postgres_server


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def topology(nc: Client, namespace: str) -> AsyncIterator[Topology]:
    """The test's own streams and consumers, deleted afterwards."""
    topo = Topology(Subjects(namespace), duplicate_window_seconds=120)
    await provision(nc, topo)
    yield topo
    await deprovision(nc, topo)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each integration test runs on both databases; PostgreSQL schemas are per namespace."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/{{service}}.db"
    return str(request.getfixturevalue("postgres_url"))
