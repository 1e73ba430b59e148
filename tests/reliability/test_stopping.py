"""`duban up` stops its services in every phase: while starting, while replaying, and when it is killed.

Each test runs `duban up` as a user would (its own process, its own home, free ports), stops it at a
chosen moment, and checks that no process it started is left running. The deadlines are generous
bounds for the outcome, not timings: a service that is left behind keeps running for minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client

from duban.isolated import free_port
from duban.settings import PROCESSES
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.provision import deprovision

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

GONE_WITHIN = 60.0


@dataclass
class Up:
    process: asyncio.subprocess.Process
    home: Path
    runtime_port: int

    @property
    def output(self) -> str:
        return (self.home / "up.log").read_text(encoding="utf-8", errors="replace")

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(f"http://127.0.0.1:{self.runtime_port}/healthz")
        return response.status_code, response.json()

    async def service_pids(self, timeout: float = 120.0) -> dict[str, int]:
        """The services' pids, as soon as the supervisor has started them all (before they are ready)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.returncode is None, self.output
            with contextlib.suppress(httpx.HTTPError, ValueError):
                _, health = await self.health()
                services = health["services"]
                assert isinstance(services, dict)
                pids = {name: info["pid"] for name, info in services.items() if info["pid"]}
                if len(pids) == len(PROCESSES):
                    return pids
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the services did not start within {timeout}s:\n{self.output}")

    async def wait_for_output(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.returncode is None, self.output
            assert time.monotonic() < deadline, f"{text!r} not printed within {timeout}s:\n{self.output}"
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def duban_up(home: Path, env: dict[str, str], *args: str) -> AsyncIterator[Up]:
    runtime_port = free_port()
    environment = {
        **os.environ,
        **env,
        "DUBAN_HOME": str(home),
        "DUBAN_RUNTIME_PORT": str(runtime_port),
        **{f"DUBAN_{service.upper()}_HTTP_PORT": str(free_port()) for service in PROCESSES},
    }
    duban = str(Path(sys.executable).parent / "duban")
    with (home / "up.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            duban, "up", *args, env=environment, stdout=log, stderr=log, cwd=home
        )
    up = Up(process, home, runtime_port)
    try:
        yield up
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def wait_gone(pids: Iterable[int], within: float = GONE_WITHIN) -> list[int]:
    """The pids still running after `within` seconds (empty as soon as none is)."""
    pids = list(pids)
    deadline = time.monotonic() + within
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:  # noqa: ASYNC110 - /proc is polled
        await asyncio.sleep(0.1)
    return left


def embedded_nats_pids(home: Path) -> list[int]:
    """nats-server processes whose store is under `home`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().split(b"\0")
            if command and command[0].endswith(b"nats-server") and str(home).encode() in b" ".join(command):
                found.append(int(entry.name))
    return found


@pytest.fixture
async def external_nats(nats_url: str, namespace: str, nc: Client) -> AsyncIterator[dict[str, str]]:
    yield {"DUBAN_NATS_URL": nats_url, "DUBAN_NAMESPACE": namespace}
    await deprovision(nc, Topology(Subjects(namespace)))


async def test_sigterm_while_the_services_start_stops_them_all(tmp_path: Path, external_nats: dict[str, str]) -> None:
    async with duban_up(tmp_path, external_nats, "--feed", "none") as up:
        pids = await up.service_pids()
        up.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(up.process.wait(), GONE_WITHIN)
        assert await wait_gone(pids.values()) == [], up.output
    assert code == 0


async def test_sigterm_while_replaying_the_year_stops_the_services_and_says_it_was_cut_short(
    tmp_path: Path, external_nats: dict[str, str]
) -> None:
    async with duban_up(tmp_path, external_nats, "--once", "--until", "2023-03-31") as up:
        pids = await up.service_pids()
        await up.wait_for_output("replaying the simulated")
        up.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(up.process.wait(), GONE_WITHIN)
        assert await wait_gone(pids.values()) == [], up.output
    assert code == 128 + signal.SIGTERM


async def test_services_and_embedded_nats_stop_when_duban_up_is_killed(tmp_path: Path) -> None:
    async with duban_up(tmp_path, {"DUBAN_NATS_PORT": str(free_port())}, "--feed", "none") as up:
        pids = await up.service_pids()
        nats = embedded_nats_pids(tmp_path)
        assert len(nats) == 1, up.output
        up.process.kill()  # no clean-up runs: the kernel's parent-death signal is all there is
        await up.process.wait()
        assert await wait_gone([*pids.values(), *nats]) == [], up.output


async def test_supervisor_health_reports_a_dead_service_until_it_runs_again(
    tmp_path: Path, external_nats: dict[str, str]
) -> None:
    async with duban_up(tmp_path, external_nats, "--feed", "none") as up:
        pids = await up.service_pids()
        await up.wait_for_output("serving")
        status, health = await up.health()
        assert status == 200 and health["status"] == "ok"
        os.kill(pids["alerts"], signal.SIGKILL)
        seen: list[tuple[int, object, object]] = []
        deadline = time.monotonic() + GONE_WITHIN
        while time.monotonic() < deadline:
            status, health = await up.health()
            services = health["services"]
            assert isinstance(services, dict)
            seen.append((status, health["status"], services["alerts"]["state"]))
            if seen[-1][2] == "running" and (503, "degraded", "restarting") in seen:
                break
            await asyncio.sleep(0.05)
        assert (503, "degraded", "restarting") in seen, json.dumps(seen)
        assert seen[-1] == (200, "ok", "running"), json.dumps(seen)
        assert services["alerts"]["restarts"] == 1 and services["alerts"]["last_exit_code"] == -signal.SIGKILL
        up.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(up.process.wait(), GONE_WITHIN)


async def test_a_service_that_cannot_reach_nats_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DUBAN_HOME": str(tmp_path),
        "DUBAN_NATS_URL": f"nats://127.0.0.1:{free_port()}",  # nothing listens there
        "DUBAN_TASKS_HTTP_PORT": str(free_port()),
    }
    log_path = tmp_path / "tasks.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "duban_tasks", env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 120
        while "Running upgrade" not in log_path.read_text(errors="replace"):  # migrated: now waiting for NATS
            assert process.returncode is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), GONE_WITHIN)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0, log_path.read_text(errors="replace")
