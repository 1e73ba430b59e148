"""Faults 2 and 3: the NATS server restarts under load; a cluster loses its stream leader under load."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from duban.bus import wait_quiet
from duban.isolated import free_port, isolated_stack
from duban_contracts.subjects import Subjects
from tests.reliability.support import assert_exactly_once, publish, workload
from tests.support.servers import NatsProcess, wait_for_port

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsProcess]:
    server = NatsProcess(port=free_port(), store=tmp_path / "nats")
    server.start()
    yield server
    server.stop()


async def connect(urls: list[str]) -> Client:
    return await nats.connect(servers=urls, max_reconnect_attempts=-1, reconnect_time_wait=0.2, connect_timeout=2)


async def test_a_nats_restart_under_load_loses_no_acknowledged_submission(
    own_nats: NatsProcess, postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    subjects = Subjects(namespace)
    load = workload(namespace, 300, drownings=10)
    nc = await connect([own_nats.url])
    try:
        async with isolated_stack(
            nats_url=own_nats.url, namespace=namespace, home=tmp_path / "home", database_url=postgres_url
        ) as stack:
            publishing = asyncio.create_task(publish(nc, subjects, load.items, retry_for=90))
            await asyncio.sleep(0.3)
            own_nats.stop()  # a clean stop: file storage, everything acknowledged is on disk
            await asyncio.sleep(3)
            own_nats.start()
            acked = await publishing
            await wait_quiet(nc, stack.settings.topology, timeout=180)
            await assert_exactly_once(nc, subjects, load)
            assert stack.supervisor is not None
            restarts = {name: service.restarts for name, service in stack.supervisor.services.items()}
    finally:
        await nc.close()
    assert acked == set(load.ids)
    assert set(restarts.values()) == {0}, "services must resume on their own, without a restart"


#: Client port and store come from the command line (NatsProcess); this adds the cluster and durability.
CLUSTER_NODE = """
server_name: {name}
cluster {{
  name: duban-reliability
  listen: 127.0.0.1:{route}
  routes: [{routes}]
}}
jetstream {{
  sync_interval: always
}}
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[NatsProcess]]:
    clients = [free_port() for _ in range(3)]
    routes = [free_port() for _ in range(3)]
    nodes = []
    for n in range(3):
        config = tmp_path / f"node-{n}.conf"
        config.write_text(
            CLUSTER_NODE.format(
                name=f"n{n}",
                route=routes[n],
                routes=", ".join(f"nats-route://127.0.0.1:{p}" for p in routes),
            ),
            encoding="utf-8",
        )
        nodes.append(NatsProcess(port=clients[n], store=tmp_path / f"store-{n}", args=["-c", str(config)]))
    for node in nodes:
        node.start()
    for node in nodes:
        wait_for_port(node.port)
    yield nodes
    for node in nodes:
        node.stop(kill=True)


async def jetstream_ready(nc: Client) -> None:
    """A new cluster answers JetStream requests once it has elected its meta leader."""
    for _ in range(150):
        try:
            await nc.jetstream().account_info()
            return
        except Exception:
            await asyncio.sleep(0.2)
    raise TimeoutError("the cluster's JetStream never became ready")


async def stream_leader(nc: Client, stream: str) -> str:
    for _ in range(100):
        try:
            info = await nc.jetstream().stream_info(stream)
            if info.cluster and info.cluster.leader:
                return str(info.cluster.leader)
        except Exception:  # the meta group may still be electing
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no leader for {stream}")


@pytest.mark.slow
async def test_killing_the_stream_leader_of_an_r3_cluster_loses_nothing_acknowledged(
    cluster: list[NatsProcess], postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    urls = [node.url for node in cluster]
    subjects = Subjects(namespace)
    load = workload(namespace, 300, drownings=10)
    nc = await connect(urls)
    await jetstream_ready(nc)
    try:
        env = {"DUBAN_STREAM_REPLICAS": "3"}
        async with isolated_stack(
            nats_url=",".join(urls),
            namespace=namespace,
            home=tmp_path / "home",
            database_url=postgres_url,
            extra_env=env,
        ) as stack:
            inbound = subjects.stream_name("IN")
            info = await nc.jetstream().stream_info(inbound)
            assert info.config.num_replicas == 3
            leader = await stream_leader(nc, inbound)
            publishing = asyncio.create_task(publish(nc, subjects, load.items, retry_for=90))
            await asyncio.sleep(0.3)
            victim = next(node for node, name in zip(cluster, ("n0", "n1", "n2"), strict=True) if name == leader)
            victim.stop(kill=True)
            acked = await publishing
            new_leader = await stream_leader(nc, inbound)
            await wait_quiet(nc, stack.settings.topology, timeout=180)
            await assert_exactly_once(nc, subjects, load)
    finally:
        await nc.close()
    assert new_leader != leader
    assert acked == set(load.ids)
