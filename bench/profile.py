"""Where the time goes: the four services under load, each inside cProfile.

The services run as processes exactly as `duban up` runs them (same module, same environment), but
started by this module through `bench.profiled_service`, which switches cProfile on once the service is
ready (start-up stays out of the profile) and writes the profile when it stops.
They get the same load as the throughput run, are stopped with SIGTERM (a clean shutdown, so the
profiles are written), and each profile is summarised: CPU time by library (psycopg, SQLAlchemy,
nats-py, FastStream, pydantic, duban's own code, …), idle time (waiting in epoll), and the
functions that cost the most. Profiling slows Python down, so these runs measure shares, not rates.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pstats
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats

from duban.isolated import drop_schemas, free_port
from duban.settings import SERVICES
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.provision import deprovision, provision

from .pipeline import publish_all
from .stack import ConsumerTrace, sample_consumers
from .workload import Workload

REPO = Path(__file__).resolve().parent.parent

#: (category, test on the profile entry's file name or built-in's name), first match wins.
CATEGORIES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("idle (epoll wait)", lambda file, name: "epoll" in name or "select.select" in name),
    ("psycopg (driver)", lambda file, name: "/psycopg" in file),
    ("SQLAlchemy", lambda file, name: "/sqlalchemy/" in file),
    ("nats-py", lambda file, name: "/nats/" in file),
    ("FastStream", lambda file, name: "/faststream/" in file or "/fast_depends/" in file or "/anyio/" in file),
    ("pydantic", lambda file, name: "/pydantic" in file or "pydantic_core" in name or "validate_" in name),
    ("json", lambda file, name: "/json/" in file or "json" in name),
    ("prometheus_client", lambda file, name: "/prometheus_client/" in file),
    ("logging", lambda file, name: "/logging/" in file),
    ("asyncio", lambda file, name: "/asyncio/" in file or "_asyncio" in name),
    ("uuid / hashlib", lambda file, name: "/uuid.py" in file or "sha256" in name or "hashlib" in name),
    ("alembic / startup", lambda file, name: "/alembic/" in file or "/importlib/" in file or "<frozen" in file),
    ("duban code", lambda file, name: "/duban_" in file or "/duban/" in file),
    ("uvicorn / starlette (HTTP)", lambda file, name: "/uvicorn/" in file or "/starlette/" in file),
    ("zoneinfo / datetime", lambda file, name: "zoneinfo" in file or "datetime" in name or "strptime" in file),
)


@dataclass(frozen=True)
class FunctionCost:
    name: str
    calls: int
    own_seconds: float
    cumulative_seconds: float


@dataclass(frozen=True)
class ServiceProfile:
    service: str
    wall_seconds: float
    total_seconds: float
    by_category: dict[str, float]
    top_own: list[FunctionCost]
    top_duban: list[FunctionCost]
    report_path: Path


def _label(file: str, line: int, name: str) -> str:
    if file == "~":
        return name
    short = file.rsplit("site-packages/", maxsplit=1)[-1].rsplit("/src/", maxsplit=1)[-1]
    return f"{short}:{line}({name})"


def summarise(service: str, path: Path, wall_seconds: float, out: Path) -> ServiceProfile:
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    by_category: dict[str, float] = defaultdict(float)
    own: list[FunctionCost] = []
    duban: list[FunctionCost] = []
    total_seconds = 0.0
    for (file, line, name), (_cc, calls, tottime, cumtime, _callers) in entries.items():
        total_seconds += tottime
        category = next((c for c, test in CATEGORIES if test(file, name)), "other")
        by_category[category] += tottime
        cost = FunctionCost(_label(file, line, name), calls, tottime, cumtime)
        if category != "idle (epoll wait)":
            own.append(cost)
        if ("/duban_" in file or "/duban/" in file) and not file.endswith("__main__.py"):
            duban.append(cost)
    own.sort(key=lambda c: c.own_seconds, reverse=True)
    duban.sort(key=lambda c: c.cumulative_seconds, reverse=True)
    with out.open("w", encoding="utf-8") as handle:
        for key in ("tottime", "cumulative"):
            report = pstats.Stats(str(path), stream=handle)
            report.sort_stats(key).print_stats(60)
    return ServiceProfile(service, wall_seconds, total_seconds, dict(by_category), own[:12], duban[:12], out)


async def _ready(port: int, deadline: float) -> None:
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"service on port {port} not ready")
            await asyncio.sleep(0.2)


async def measure(
    *,
    nats_url: str,
    database_url: str,
    namespace: str,
    home: Path,
    count: int,
    budget: float,
    progress: Callable[[str], None] = print,
) -> list[ServiceProfile]:
    out = home / "profile"
    out.mkdir(parents=True, exist_ok=True)
    topology = Topology(Subjects(namespace))
    nc = await nats.connect(nats_url, name="duban-bench-profile")
    await provision(nc, topology)
    ports = {service: free_port() for service in SERVICES}
    env = {
        **os.environ,
        "DUBAN_NATS_URL": nats_url,
        "DUBAN_NAMESPACE": namespace,
        "DUBAN_HOME": str(home),
        "DUBAN_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    processes: dict[str, asyncio.subprocess.Process] = {}
    started: dict[str, float] = {}
    try:
        for service in SERVICES:
            log = (out / f"{service}.log").open("ab")
            processes[service] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.profiled_service",
                service,
                str(out / f"{service}.prof"),
                env={**env, f"DUBAN_{service.upper()}_HTTP_PORT": str(ports[service])},
                cwd=REPO,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            log.close()
        deadline = time.monotonic() + 90
        for port in ports.values():
            await _ready(port, deadline)
        for service, process in processes.items():
            process.send_signal(signal.SIGUSR1)
            started[service] = time.perf_counter()
        submissions = Workload(f"{namespace}-p").take(count)
        traces = [ConsumerTrace(spec) for spec in topology.consumers]
        await sample_consumers(nc, traces)
        began = time.perf_counter()
        await publish_all(nc, topology.subjects.inbound_submission, submissions)
        while time.perf_counter() - began < budget:
            await asyncio.sleep(0.5)
            await sample_consumers(nc, traces)
            if sum(t.samples[-1].outstanding for t in traces) == 0 and all(
                t.processed() >= count for t in traces if t.spec.service == "ingest"
            ):
                break
        progress(f"  profiled load of {count:,} submissions ran {time.perf_counter() - began:.0f}s; stopping services")
    finally:
        ended: dict[str, float] = {}
        for process in processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for service, process in processes.items():
            try:
                await asyncio.wait_for(process.wait(), timeout=60)
            except TimeoutError:
                process.kill()
                await process.wait()
            ended[service] = time.perf_counter()
        await deprovision(nc, topology)
        await nc.drain()
        drop_schemas(database_url, f"{namespace}_")
    return [
        summarise(service, out / f"{service}.prof", ended[service] - started[service], out / f"{service}.txt")
        for service in SERVICES
        if (out / f"{service}.prof").exists()
    ]
