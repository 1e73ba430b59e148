"""Faults 1 and 8: services killed with SIGKILL at exact points; nothing lost, nothing applied twice.

Each service crashes once (the fault marker stops a restarted process from crashing again) while a
known set of submissions streams through; `duban up`'s supervisor restarts it with back-off, the
operator sees it in the logs and in `duban_service_restarts_total`, and the outcome matches the set.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client

from duban.bus import wait_quiet
from duban.isolated import isolated_stack
from duban.settings import CONSOLE, SERVICES
from duban_contracts.subjects import Subjects
from tests.reliability.support import assert_exactly_once, publish, workload

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]


def faults(point: str, home: Path, after: dict[str, int]) -> dict[str, dict[str, str]]:
    return {
        service: {
            "DUBAN_FAULT": f"{point}:{after[service]}",
            "DUBAN_FAULT_MARKER": str(home / f"{service}.{point}.crashed"),
        }
        for service in SERVICES
    }


@pytest.mark.parametrize("point", ["after_commit", "before_commit"])
async def test_every_service_killed_mid_stream_resumes_with_exactly_once_effects(
    point: str,
    nc: Client,
    nats_url: str,
    postgres_url: str,
    namespace: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="duban.supervisor")
    subjects = Subjects(namespace)
    load = workload(namespace, 240, drownings=12)
    # Small fetches make many batches, so each crash lands in the middle of the stream.
    env = {"DUBAN_FETCH_BATCH": "8", "DUBAN_ACK_WAIT_SECONDS": "5"}
    crash_after = {"ingest": 5, "tasks": 4, "alerts": 3, "reports": 6}
    async with isolated_stack(
        nats_url=nats_url,
        namespace=namespace,
        home=tmp_path,
        database_url=postgres_url,
        extra_env=env,
        service_env=faults(point, tmp_path, crash_after),
    ) as stack:
        acked = await publish(nc, subjects, load.items)
        await wait_quiet(nc, stack.settings.topology, timeout=180)
        # Quiet can come while a crashed service waits out its back-off: wait until all are back.
        assert stack.supervisor is not None
        await stack.supervisor.wait_ready()
        await wait_quiet(nc, stack.settings.topology, timeout=120)
        assert acked == set(load.ids)
        await assert_exactly_once(nc, subjects, load)
        restarts = {name: service.restarts for name, service in stack.supervisor.services.items()}
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(stack.urls()["runtime"])).text

    assert restarts == dict.fromkeys(SERVICES, 1) | {CONSOLE: 0}  # the console was never made to crash
    assert all((tmp_path / f"{s}.{point}.crashed").exists() for s in SERVICES)
    for service in SERVICES:
        assert f'duban_service_restarts_total{{service="{service}"}} 1.0' in metrics
        assert any(f"service {service} exited with code -9" in r.getMessage() for r in caplog.records)


async def test_a_crash_between_commit_and_publish_delays_the_events_but_never_splits_them(
    nc: Client, nats_url: str, postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    """Fault 8: the outbox. Tasks dies after committing status changes and before publishing them."""
    subjects = Subjects(namespace)
    load = workload(namespace, 120)
    service_env = {
        "tasks": {"DUBAN_FAULT": "before_publish:2", "DUBAN_FAULT_MARKER": str(tmp_path / "tasks.crashed")},
        "ingest": {"DUBAN_FAULT": "before_publish:3", "DUBAN_FAULT_MARKER": str(tmp_path / "ingest.crashed")},
    }
    async with isolated_stack(
        nats_url=nats_url,
        namespace=namespace,
        home=tmp_path,
        database_url=postgres_url,
        extra_env={"DUBAN_FETCH_BATCH": "8", "DUBAN_ACK_WAIT_SECONDS": "5"},
        service_env=service_env,
    ) as stack:
        await publish(nc, subjects, load.items)
        await wait_quiet(nc, stack.settings.topology, timeout=180)
        assert stack.supervisor is not None
        await stack.supervisor.wait_ready()
        await wait_quiet(nc, stack.settings.topology, timeout=120)
        await assert_exactly_once(nc, subjects, load)
        restarts = {name: service.restarts for name, service in stack.supervisor.services.items()}

    assert restarts["tasks"] == 1 and restarts["ingest"] == 1
    assert (tmp_path / "tasks.crashed").exists() and (tmp_path / "ingest.crashed").exists()
