"""`duban up`: NATS (embedded unless DUBAN_NATS_URL), provisioning, the four services, the clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_kit.http import HttpServer
from duban_kit.provision import provision
from duban_kit.tokens import Role, generated_entries, load_tokens, write_tokens_file

from .bus import connect, live_clock, wait_quiet
from .embedded import EmbeddedNats, free_port, port_is_free
from .settings import CONSOLE, DEFAULT_PORTS, SERVICES, RuntimeSettings
from .supervisor import Supervisor

log = logging.getLogger("duban.runtime")

#: The development token file `duban up` makes under var/ when the user gave no tokens of their own.
DEV_TOKENS_FILE = "api-tokens"
DEV_TOKEN_HOLDERS = ((Role.ADMIN, "admin"), (Role.OPERATOR, "operator"), (Role.READER, "reader"))


@dataclass(frozen=True)
class ApiTokens:
    """The tokens file the services were given, and its admin token (None: the user's own file or list)."""

    path: Path | None
    admin: str | None


def user_gave_tokens(environ: dict[str, str]) -> bool:
    """Whether DUBAN_API_TOKENS(_FILE), for all services or one (DUBAN_<SERVICE>_API_TOKENS…), is set."""
    return any(
        value and key.startswith("DUBAN_") and key.endswith(("_API_TOKENS", "_API_TOKENS_FILE"))
        for key, value in environ.items()
    )


def ensure_token_file(path: Path, holders: tuple[tuple[Role, str], ...] = DEV_TOKEN_HOLDERS) -> bool:
    """Make `path` once — a random token per (role, name), readable by its owner only — and keep it after.

    True when it was made now. A file that exists is left as it is, only its mode tightened to 0600.
    """
    if path.exists():
        path.chmod(0o600)
        return False
    write_tokens_file(path, generated_entries(holders))
    return True


def dev_tokens(var_dir: Path) -> ApiTokens:
    """`var/api-tokens` (admin, operator, reader), made on the first `duban up` and reused after."""
    path = var_dir / DEV_TOKENS_FILE
    if ensure_token_file(path):
        log.info("made the development API tokens in %s (admin, operator, reader; mode 0600)", path)
    admin = next((token for token, who in load_tokens(path, None).items() if who.role is Role.ADMIN), None)
    return ApiTokens(path, admin)


@dataclass
class Stack:
    """Everything `duban up` runs; start() and stop() in that order."""

    settings: RuntimeSettings
    services: tuple[str, ...] = SERVICES
    console: bool = True
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    nats_url: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    runtime_port: int = 0
    api_tokens: ApiTokens = ApiTokens(None, None)
    embedded: EmbeddedNats | None = None
    supervisor: Supervisor | None = None
    _server: HttpServer | None = None

    async def start(self) -> None:
        settings = self.settings
        home = settings.home.resolve()
        if settings.nats_url:
            self.nats_url = settings.nats_url
        else:
            self.embedded = EmbeddedNats(
                home / "var" / "nats", settings.nats_port, log_file=home / "var" / "log" / "nats.log"
            )
            self.embedded.launch()  # from the loop's thread: see duban.orphans
            await asyncio.to_thread(self.embedded.wait_listening)
            self.nats_url = self.embedded.url
            log.info("embedded NATS with JetStream at %s (data in %s)", self.nats_url, self.embedded.store)
        async with connect(settings, self.nats_url) as nc:
            report = await provision(nc, settings.topology)
        log.info("streams and consumers: %d created, %d updated", len(report.created), len(report.updated))
        processes = (*self.services, CONSOLE) if self.console else self.services
        self.ports = {name: self._port_for(name) for name in processes}
        env = {
            "DUBAN_NATS_URL": self.nats_url,
            "DUBAN_NAMESPACE": settings.namespace,
            "DUBAN_HOME": str(home),
            "DUBAN_STREAM_REPLICAS": str(settings.stream_replicas),
            "DUBAN_ACK_WAIT_SECONDS": str(settings.ack_wait_seconds),
        }
        if not user_gave_tokens(dict(os.environ)):  # the API's reads need a token: hand out development ones
            self.api_tokens = dev_tokens(home / "var")
            env["DUBAN_API_TOKENS_FILE"] = str(self.api_tokens.path)
        service_env = dict(self.service_env)
        if self.console and "ingest" in self.ports:  # the console forwards uploads to ingest's HTTP API
            service_env[CONSOLE] = {"DUBAN_CONSOLE_INGEST_URL": f"http://127.0.0.1:{self.ports['ingest']}"} | (
                service_env.get(CONSOLE) or {}
            )
        self.supervisor = Supervisor(self.ports, env, home / "var" / "log", service_env)
        await self.supervisor.start()
        await self._serve_runtime_metrics()
        await self.supervisor.wait_ready()

    def _port_for(self, service: str) -> int:
        configured = os.environ.get(f"DUBAN_{service.upper()}_HTTP_PORT") or os.environ.get("DUBAN_HTTP_PORT")
        if configured:
            return int(configured)
        port = DEFAULT_PORTS[service]
        if port_is_free(port):
            return port
        chosen = free_port()
        log.warning(
            "port %d for %s is taken; using %d (set DUBAN_%s_HTTP_PORT to choose)",
            port,
            service,
            chosen,
            service.upper(),
        )
        return chosen

    async def _serve_runtime_metrics(self) -> None:
        assert self.supervisor is not None
        registry = self.supervisor.metrics.registry
        supervisor = self.supervisor

        async def metrics(_request: Request) -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

        async def healthz(_request: Request) -> Response:
            health = supervisor.health()
            return JSONResponse(health, status_code=200 if health["status"] == "ok" else 503)

        port = self.settings.runtime_port if port_is_free(self.settings.runtime_port) else free_port()
        self.runtime_port = port
        app = Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz)])
        self._server = HttpServer(app, self.settings.runtime_host, port)
        await self._server.start()

    async def stop(self) -> None:
        if self.supervisor is not None:
            await self.supervisor.stop()
        if self._server is not None:
            await self._server.stop()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[Client]:
        async with connect(self.settings, self.nats_url) as nc:
            yield nc

    @property
    def console_url(self) -> str | None:
        port = self.ports.get(CONSOLE)
        return f"http://127.0.0.1:{port}/" if port else None

    def urls(self) -> dict[str, str]:
        urls = {name: f"http://127.0.0.1:{port}/metrics" for name, port in self.ports.items()}
        urls["runtime"] = f"http://127.0.0.1:{self.runtime_port}/metrics"
        return urls


def load_sample() -> list[tuple[str, dict[str, Any]]]:
    text = resources.files("duban").joinpath("data/sample.jsonl").read_text(encoding="utf-8")
    return [(item["id"], item["payload"]) for item in map(json.loads, text.splitlines()) if item]


def sample_day(sample: list[tuple[str, dict[str, Any]]] | None = None) -> date:
    """The day the quick look shows: the latest day a sample submission names (event time, never today).

    Like the year replay, the sample runs on the plan year's clock: statuses, deadlines and the report
    are judged at the end of this day, so that what it shows means something for the 2023 plan.
    """
    days = [
        date.fromisoformat(str(payload[key])[:10])
        for _, payload in (sample if sample is not None else load_sample())
        for key in ("date", "occurred_at", "reported_at")
        if payload.get(key)
    ]
    return max(days)


async def feed_sample(nc: Client, settings: RuntimeSettings) -> int:
    js = nc.jetstream()
    sample = load_sample()
    for submission_id, payload in sample:
        await js.publish(
            settings.subjects.inbound_submission,
            json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Nats-Msg-Id": submission_id},
        )
    return len(sample)


class StopSignals:
    """SIGINT and SIGTERM cancel the task that installed them — once; its clean-up then runs in full.

    Installed as the first thing `duban up` does, so a stop asked for while NATS starts, the services
    start or the year replays stops the services too: the supervisor's `finally` runs, rather than the
    process dying with its children left behind. A second signal while stopping is only logged.
    """

    #: How often a stop is asked again until the task starts its clean-up (see `_on_signal`).
    RECANCEL_SECONDS = 0.5

    def __init__(self) -> None:
        self.received: int | None = None
        #: Set by the stopped task as the first thing its clean-up does; from then on it is left alone.
        self.cleaning = False

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None, "install from inside the task to stop"
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig, task)

    def _on_signal(self, sig: int, task: asyncio.Task[Any]) -> None:
        if self.received is not None:
            log.warning("already stopping (signal %s ignored)", signal.Signals(sig).name)
            return
        self.received = sig
        log.info("stopping on %s", signal.Signals(sig).name)
        self._cancel(task)

    def _cancel(self, task: asyncio.Task[Any]) -> None:
        # Asked again until the task's clean-up starts: Python 3.11's `asyncio.wait_for` can swallow a
        # cancellation that lands as its inner await completes, and the replay awaits many short ones.
        if task.done() or self.cleaning:
            return
        task.cancel()
        asyncio.get_running_loop().call_later(self.RECANCEL_SECONDS, self._cancel, task)


async def keep_serving(stack: Stack) -> None:
    """Tick the live clock until cancelled (Ctrl-C or SIGTERM, through `StopSignals`)."""
    async with stack.client() as nc:
        await live_clock(nc, stack.settings.subjects, stack.settings.clock_interval_seconds)


async def drain(stack: Stack, timeout: float = 120.0) -> None:
    async with stack.client() as nc:
        await wait_quiet(nc, stack.settings.topology, services=stack.services, timeout=timeout)


def out_dir(settings: RuntimeSettings) -> Path:
    path = settings.out_dir
    path.mkdir(parents=True, exist_ok=True)
    return path
