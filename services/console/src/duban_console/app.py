"""The console's app factory and its small runtime.

The console has no database, inbox or outbox, so it does not use kit's `ServiceRuntime` (which is
built around them); it is assembled from kit's other parts — settings, logging, metrics, health and
the HTTP server — plus a plain NATS connection for requests and the live feed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import nats
from nats.aio.client import Client
from prometheus_client import Counter, Gauge, Histogram
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from duban_kit.http import HttpServer, TokenAuth, build_http_app
from duban_kit.logs import configure_logging
from duban_kit.metrics import LATENCY_BUCKETS, ServiceMetrics

from .auth import Directory, load_directory
from .backend import Backend
from .config import ConsoleSettings
from .entrypoints import pages
from .live import LiveFeed
from .security import SignInLimiter

log = logging.getLogger("duban.console")

PACKAGE = Path(__file__).parent
SESSION_COOKIE = "duban_console"


class ConsoleMetrics:
    def __init__(self) -> None:
        self.service = ServiceMetrics("console")
        registry = self.service.registry
        self.page_seconds = Histogram(
            "duban_console_page_seconds",
            "Time to answer a console page, by page.",
            ["page"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sign_ins = Counter(
            "duban_console_sign_ins",
            "Sign-in attempts, by outcome (ok, refused, limited).",
            ["outcome"],
            registry=registry,
        )
        self.listeners = Gauge("duban_console_live_listeners", "Browsers following live changes.", registry=registry)


class Console:
    """Everything the console runs: start(), then serve() or the Starlette `app` in tests."""

    def __init__(self, settings: ConsoleSettings, directory: Directory) -> None:
        self.settings = settings
        self.directory = directory
        self.metrics = ConsoleMetrics()
        self.live = LiveFeed(settings.subjects)
        self.limiter = SignInLimiter(settings.login_failures_allowed, settings.login_window_seconds)
        self._nc: Client | None = None
        self._backend: Backend | None = None
        self._http: HttpServer | None = None
        self._stop = asyncio.Event()
        self.metrics.listeners.set_function(lambda: self.live.listeners)
        self.app = self._build_app()

    @property
    def backend(self) -> Backend:
        assert self._backend is not None, "the console is not started"
        return self._backend

    def _build_app(self) -> Starlette:
        s = self.settings
        auth = TokenAuth.from_config(s.api_tokens_file, s.api_tokens, metrics_requires_token=s.metrics_requires_token)
        routes = [
            *pages.routes(self),
            Mount("/static", app=StaticFiles(directory=PACKAGE / "static"), name="static"),
        ]
        app = build_http_app(
            service="console", metrics=self.metrics.service, readiness=self.readiness, auth=auth, routes=routes
        )
        app.add_middleware(
            SessionMiddleware,
            secret_key=s.effective_session_secret(),
            session_cookie=SESSION_COOKIE,
            max_age=s.session_max_age_seconds,
            same_site="strict",
            https_only=s.secure_cookies,
        )
        return app

    async def readiness(self) -> dict[str, bool]:
        return {"nats": self._nc is not None and self._nc.is_connected}

    async def start(self) -> None:
        s = self.settings
        options: dict[str, object] = {}
        if s.nats_user and s.nats_password is not None:
            options |= {"user": s.nats_user, "password": s.nats_password.get_secret_value()}
        if s.nats_creds_file is not None:
            options["user_credentials"] = str(s.nats_creds_file)
        if s.nats_inbox_prefix:
            options["inbox_prefix"] = s.nats_inbox_prefix
        self._nc = await nats.connect(
            [url.strip() for url in s.nats_url.split(",")],
            name="duban-console",
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            **options,
        )
        self._backend = Backend(self._nc, s.subjects, timeout=s.request_timeout_seconds, ingest_url=s.ingest_url)
        await self.live.start(self._nc)
        if not len(self.directory):
            log.warning("no API tokens configured (DUBAN_API_TOKENS / DUBAN_API_TOKENS_FILE): nobody can sign in")
        log.info("started")

    async def stop(self) -> None:
        await self.live.stop()
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None
        log.info("stopped")

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT: HTTP after NATS, stopped before it."""
        configure_logging("console", self.settings.log_level)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        await self.start()
        self._http = HttpServer(self.app, self.settings.http_host, self.settings.effective_http_port)
        try:
            await self._http.start()
            log.info("serving on http://%s:%d/", self.settings.http_host, self.settings.effective_http_port)
            await self._stop.wait()
        finally:
            await self.live.stop()  # ends the browsers' live streams, so HTTP can stop
            await self._http.stop()
            await self.stop()


def create_app(settings: ConsoleSettings) -> Console:
    return Console(settings, load_directory(settings))
