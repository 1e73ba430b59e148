"""Runs the four services as separate processes, restarts a crashed one with back-off, stops them cleanly.

Each service logs JSON lines to `var/log/<service>.log`. A crash is logged by the supervisor (with the
exit code and the restart delay) and counted in `duban_service_restarts_total`, so an operator sees
it in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge

from .orphans import die_with_parent

log = logging.getLogger("duban.supervisor")

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0


@dataclass
class ManagedService:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    state: str = "stopped"  # running, restarting (exited, waiting to start again), stopped
    last_exit_code: int | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_START
    stopping: bool = False
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class SupervisorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.restarts = Counter(
            "duban_service_restarts",
            "Times a service process was restarted after it exited.",
            ["service"],
            registry=self.registry,
        )
        self.up = Gauge(
            "duban_service_up", "1 while the service's process is running.", ["service"], registry=self.registry
        )
        self.exits = Counter(
            "duban_service_exits", "Service process exits, by exit code.", ["service", "code"], registry=self.registry
        )


class Supervisor:
    def __init__(
        self,
        services: dict[str, int],
        base_env: dict[str, str],
        log_dir: Path,
        service_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.metrics = SupervisorMetrics()
        self.log_dir = log_dir
        self.services = {
            name: ManagedService(
                name=name,
                port=port,
                env={**base_env, f"DUBAN_{name.upper()}_HTTP_PORT": str(port), **(service_env or {}).get(name, {})},
                log_path=log_dir / f"{name}.log",
            )
            for name, port in services.items()
        }
        self._closing = False

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services.values():
            await self._spawn(service)
            service.watcher = asyncio.create_task(self._watch(service), name=f"watch-{service.name}")

    async def _spawn(self, service: ManagedService) -> None:
        log_file = service.log_path.open("ab")
        try:
            service.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                f"duban_{service.name}",
                env={**os.environ, **service.env},
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops services in order
                preexec_fn=die_with_parent(),  # and if the supervisor dies, they stop too
            )
        finally:
            log_file.close()
        service.started_at = time.monotonic()
        service.state = "running"
        self.metrics.up.labels(service=service.name).set(1)
        log.info("started %s (pid %s, http %d)", service.name, service.pid, service.port)

    async def _watch(self, service: ManagedService) -> None:
        while True:
            assert service.process is not None
            code = await service.process.wait()
            service.last_exit_code = code
            self.metrics.up.labels(service=service.name).set(0)
            self.metrics.exits.labels(service=service.name, code=str(code)).inc()
            if service.stopping or self._closing:
                service.state = "stopped"
                return
            service.state = "restarting"
            if time.monotonic() - service.started_at > STABLE_AFTER:
                service.backoff = BACKOFF_START
            log.error(
                "service %s exited with code %s; restarting in %.0fs (see %s)",
                service.name,
                code,
                service.backoff,
                service.log_path,
            )
            await asyncio.sleep(service.backoff)
            service.backoff = min(service.backoff * 2, BACKOFF_MAX)
            if service.stopping or self._closing:
                return
            service.restarts += 1
            self.metrics.restarts.labels(service=service.name).inc()
            await self._spawn(service)

    def health(self) -> dict[str, object]:
        """Each service's state; "ok" only while every one of them runs."""
        services = {
            name: {
                "state": service.state,
                "pid": service.pid if service.state == "running" else None,
                "restarts": service.restarts,
                "last_exit_code": service.last_exit_code,
            }
            for name, service in self.services.items()
        }
        healthy = all(service.state == "running" for service in self.services.values())
        return {"status": "ok" if healthy else "degraded", "services": services}

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            for service in self.services.values():
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        response = await client.get(f"http://127.0.0.1:{service.port}/readyz")
                        if response.status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{service.name} not ready within {timeout}s; see {service.log_path}")
                    await asyncio.sleep(0.2)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int | None:
        """Send a signal to one service's process (used by tests and `duban` fault drills)."""
        service = self.services[name]
        if service.process is None or service.process.returncode is not None:
            return None
        service.process.send_signal(sig)
        return service.process.pid

    async def stop(self, timeout: float = 20.0) -> None:
        self._closing = True
        for service in self.services.values():
            service.stopping = True
            if service.process is not None and service.process.returncode is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services.values():
            if service.process is None:
                continue
            try:
                await asyncio.wait_for(service.process.wait(), timeout=timeout)
            except TimeoutError:
                log.warning("service %s did not stop within %.0fs; killing it", service.name, timeout)
                service.process.kill()
                await service.process.wait()
            service.state = "stopped"
            self.metrics.up.labels(service=service.name).set(0)
        for service in self.services.values():
            if service.watcher is not None:
                service.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await service.watcher
