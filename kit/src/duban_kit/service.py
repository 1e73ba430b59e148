"""The chassis a service's `create_app(settings)` builds on.

`ServiceRuntime` owns the parts every service has — a FastStream NATS broker bound to the durable
consumers `duban provision` created, the service's database, the outbox relay, metrics, health and
the HTTP API — and runs them: `await runtime.serve()` until SIGTERM/SIGINT, then drains.
Nothing is created at import time: a runtime exists only when a factory builds one from settings.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from faststream.nats import NatsBroker, NatsRouter
from faststream.security import SASLPlaintext
from faststream.specification import AsyncAPI
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import INBOX_PREFIX
from pydantic import BaseModel
from sqlalchemy import Table
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from duban_contracts.events import EVENT_TYPES
from duban_contracts.rpc import ServiceStatus
from duban_contracts.topology import ConsumerSpec

from .consumer import BatchConsumer, Decode, DeliveryPolicy, ReliabilityMiddleware, dead_letter_headers
from .db import Database
from .http import HttpServer, TokenAuth, build_http_app
from .logs import configure_logging
from .messaging import Inbox, Outbox, OutboxRelay
from .metrics import ServiceMetrics
from .settings import ServiceSettings
from .units import Units

log = logging.getLogger(__name__)

Decorator = Callable[[Callable[..., Any]], Any]


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, *, inbox: Table, outbox: Table, migrations: Path) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.migrations = migrations
        self.metrics = ServiceMetrics(self.name)
        self.db = Database(
            settings.effective_database_url,
            schema=settings.effective_database_schema,
            service=self.name,
            metrics=self.metrics,
        )
        self.inbox = Inbox(inbox)
        self.relay = OutboxRelay(self.db, outbox, lambda: self.jetstream, self.metrics)
        self.outbox = Outbox(self.relay.table, on_commit=self.relay.notify)
        self.auth = TokenAuth.from_config(
            settings.api_tokens_file,
            settings.api_tokens,
            read_requires_token=settings.read_requires_token,
            metrics_requires_token=settings.metrics_requires_token,
        )
        self.policy = DeliveryPolicy(
            service=self.name,
            max_attempts=settings.max_attempts,
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            ack_wait_seconds=settings.ack_wait_seconds,
            dead_letter=self._dead_letter,
            metrics=self.metrics,
        )
        self.router = NatsRouter()
        #: The durable consumers' fetch loops (`consume`), and what AsyncAPI says of them.
        self.consumers: list[BatchConsumer] = []
        self._documented: list[tuple[str, str, Any]] = []  # subject, title, payload type
        self.broker = self._create_broker()
        self.routes: list[BaseRoute] = []
        self.startup: list[Callable[[], Awaitable[None]]] = []
        self.shutdown: list[Callable[[], Awaitable[None]]] = []
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self.readiness: dict[str, Callable[[], Awaitable[bool]]] = {}
        #: Work that events start and that goes on after they are acknowledged (counted in `status`).
        self.pending_work: dict[str, Callable[[], Awaitable[int]]] = {}
        #: Told in /readyz's checks as an object (e.g. whether mail reaches anyone), never failing readiness.
        self.notices: dict[str, Callable[[], dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._stop = asyncio.Event()
        self._http: HttpServer | None = None
        self._answer_status()

    # --- wiring ----------------------------------------------------------------------------

    def _create_broker(self) -> NatsBroker:
        s = self.settings
        options: dict[str, Any] = {}
        if s.nats_user and s.nats_password is not None:
            options["security"] = SASLPlaintext(username=s.nats_user, password=s.nats_password.get_secret_value())
        if s.nats_creds_file is not None:
            options["user_credentials"] = str(s.nats_creds_file)
        if s.nats_inbox_prefix:
            options["inbox_prefix"] = s.nats_inbox_prefix
        return NatsBroker(
            [url.strip() for url in s.nats_url.split(",")],
            name=f"duban-{self.name}",
            middlewares=[ReliabilityMiddleware.factory(self.policy)],
            logger=logging.getLogger(f"duban.{self.name}.broker"),
            log_level=logging.DEBUG,  # per-message framework logs would halve throughput
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            graceful_timeout=15.0,
            **options,
        )

    @property
    def nats(self) -> Client:
        return self.broker.config.connection_state.connection  # type: ignore[no-any-return]

    @property
    def jetstream(self) -> JetStreamContext:
        return self.broker.config.connection_state.stream  # type: ignore[no-any-return]

    def consume(self, units: Units) -> None:
        """Consume every event type of `units`' table from this service's durable consumers.

        One fetch is one call: the batch is decoded, applied in one unit of work, and acked.
        """
        for event_type in units.table:
            model: type[BaseModel] = EVENT_TYPES[event_type]
            self._pull(
                self.settings.topology.consumer(self.name, event_type),
                decode=_contract_decoder(model),
                apply=_batch_of(units, event_type),
            )
            self._documented.append((self.settings.subjects.event(event_type), f"{self.name}:{event_type}", model))

    def consume_inbound(self, units: Units, decode: Decode, *, documented_as: Any) -> None:
        """Consume the inbound submissions: `decode` turns a message into the item `units`' one applier
        takes (it must not raise on hostile input, which would be retried until dead-lettered)."""
        spec = self.settings.topology.inbound_consumer(self.name)
        (key,) = units.table
        self._pull(spec, decode=decode, apply=_batch_of(units, key))
        self._documented.append((spec.filter_subject, f"{self.name}:submission", documented_as))

    def _pull(self, spec: ConsumerSpec, *, decode: Decode, apply: Callable[[Any], Awaitable[None]]) -> None:
        self.consumers.append(
            BatchConsumer(
                stream=spec.stream,
                durable=spec.durable,
                decode=decode,
                apply=apply,
                policy=self.policy,
                jetstream=lambda: self.jetstream,
                batch_size=self.settings.fetch_batch,
                fetch_timeout=self.settings.fetch_timeout_seconds,
                inbox_prefix=self._inbox_prefix(),
            )
        )

    def _inbox_prefix(self) -> bytes:
        """FastStream pulls on `_INBOX.` unless told otherwise; a least-privilege user has its own prefix."""
        prefix = self.settings.nats_inbox_prefix
        return f"{prefix}.".encode() if prefix else INBOX_PREFIX

    def rpc(self, verb: str) -> Decorator:
        """A request/reply endpoint, shared by the service's replicas (queue group)."""
        return self.router.subscriber(
            self.settings.subjects.rpc(self.name, verb),
            queue=f"{self.name}-rpc",
            title=f"{self.name}:{verb}",
        )

    def _answer_status(self) -> None:
        """`<ns>.v1.<service>.status`: what "the pipeline is quiet" needs beyond JetStream's view."""

        @self.rpc("status")
        async def on_status() -> ServiceStatus:
            return ServiceStatus(
                service=self.name,
                started=self._started,
                outbox_pending=await self.relay.pending(),
                relay_failing=self.relay.failing,
                work_pending=sum([await count() for count in self.pending_work.values()]),
            )

    def declare_publishers(self, event_types: tuple[str, ...]) -> None:
        """Document what the outbox relay publishes (AsyncAPI), with each event's schema."""
        consumed = {spec.filter_subject for spec in self.settings.topology.consumers_of(self.name)}
        for event_type in event_types:
            model: type[BaseModel] = EVENT_TYPES[event_type]
            subject = self.settings.subjects.event(event_type)
            # A service that also consumes what it publishes (tasks: its own statuses, for 销号) needs
            # two channels: AsyncAPI keys them by title, and one would hide the other.
            title = f"{self.name}:{event_type}" + (":publish" if subject in consumed else "")
            self.router.publisher(
                subject,
                schema=model,
                title=title,
                description=(model.__doc__ or "").strip() or None,
            )

    def asyncapi(self) -> AsyncAPI:
        """The service's AsyncAPI document. The consumers `consume` runs are documented as FastStream
        subscribers on a router of their own, which only a runtime that never starts includes."""
        if not getattr(self, "_documenting", False):
            self._documenting = True
            for subject, title, model in self._documented:
                self.router.subscriber(subject, title=title)(_documented(model))
        self._include_router()
        return AsyncAPI(
            self.broker,
            title=f"duban-{self.name}",
            version="1.0.0",
            description=f"duban {self.name} service: what it consumes, publishes and answers.",
        )

    def _include_router(self) -> None:
        if not getattr(self, "_router_included", False):
            self.broker.include_router(self.router)
            self._router_included = True

    async def _dead_letter(self, raw: Msg, error: BaseException, attempt: int) -> None:
        headers = dead_letter_headers(raw, error, attempt, self.name)
        await self.jetstream.publish(self.settings.subjects.dead_letter(self.name), raw.data, headers=headers)

    # --- running ---------------------------------------------------------------------------

    async def start(self, *, migrate_apart: bool = False) -> None:
        """Migrate, connect, start consuming and relaying. Used by `serve` (which migrates in a child process,
        to keep alembic out of the service) and by tests."""
        if getattr(self, "_documenting", False):
            raise RuntimeError("a runtime that made its AsyncAPI document is for documentation only")
        if migrate_apart:
            await self.db.migrate_apart(self.migrations, log_level=self.settings.log_level)
        else:
            await self.db.migrate(self.migrations)
        for hook in self.startup:
            await hook()
        self._include_router()
        await self.broker.start()
        for consumer in self.consumers:
            await consumer.start()
        self._spawn(self.relay.run(), "outbox-relay")
        self._spawn(self._watch_consumers(), "consumer-info")
        for job in self.background:
            self._spawn(job(), job.__name__)
        self._started = True
        log.info("started", extra={"database": (self.db.is_sqlite and "sqlite") or "postgresql"})

    async def stop(self) -> None:
        self._started = False
        await asyncio.gather(*(consumer.stop() for consumer in self.consumers))  # in-flight batches finish
        await self.broker.stop()  # stops fetching, waits for in-flight handlers
        await self.relay.stop()
        for hook in self.shutdown:
            await hook()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.db.dispose()
        log.info("stopped")

    def http_app(self) -> Starlette:
        return build_http_app(
            service=self.name,
            metrics=self.metrics,
            readiness=self.check_readiness,
            auth=self.auth,
            routes=self.routes,
        )

    async def start_http(self) -> None:
        self._http = HttpServer(self.http_app(), self.settings.http_host, self.settings.effective_http_port)
        await self._http.start()

    async def stop_http(self) -> None:
        if self._http is not None:
            await self._http.stop()
            self._http = None

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT, then stop in order: HTTP, consumers, outbox, database.

        A signal while starting (migrating, waiting for NATS or the database) cancels the start, so
        the process stops in every phase rather than only once it is up.
        """
        configure_logging(self.name, self.settings.log_level)
        loop = asyncio.get_running_loop()
        serving = asyncio.current_task()
        assert serving is not None

        def on_signal() -> None:
            if not self._stop.is_set() and not self._started:
                serving.cancel()
            self._stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        try:
            await self.start(migrate_apart=True)
            await self.start_http()
            await self._stop.wait()
            log.info("stopping")
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
            log.info("stopping while starting")
        finally:
            await self.stop_http()
            await self.stop()

    async def check_readiness(self) -> dict[str, Any]:
        """Each check's verdict (true/false), and each notice as a non-empty object: /readyz shows it in its body,
        and, being truthy, it never makes the service unready — it informs (e.g. "mail is not delivered")."""
        checks: dict[str, Any] = {
            "started": self._started,
            "nats": bool(self.broker.config.connection_state) and self.nats.is_connected,
            "database": await self.db.ping(),
        }
        for name, check in self.readiness.items():
            checks[name] = await check()
        for name, notice in self.notices.items():
            checks[name] = notice() or {"ok": True}
        return checks

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=f"{self.name}:{name}")
        task.add_done_callback(_log_crash)
        self._tasks.append(task)

    async def _watch_consumers(self) -> None:
        consumers = self.settings.topology.consumers_of(self.name)
        while True:
            for spec in consumers:
                try:
                    info = await self.jetstream.consumer_info(spec.stream, spec.durable)
                except Exception as error:
                    log.debug("consumer info for %s failed: %r", spec.durable, error)
                    continue
                self.metrics.consumer_pending.labels(consumer=spec.durable).set(info.num_pending or 0)
                self.metrics.consumer_ack_pending.labels(consumer=spec.durable).set(info.num_ack_pending or 0)
                self.metrics.consumer_redelivered.labels(consumer=spec.durable).set(info.num_redelivered or 0)
            await asyncio.sleep(self.settings.consumer_info_interval_seconds)


def _contract_decoder(model: type[BaseModel]) -> Decode:
    def decode(msg: Msg) -> BaseModel:
        return model.model_validate_json(msg.data)

    return decode


def _batch_of(units: Units, event_type: str) -> Callable[[Any], Awaitable[None]]:
    async def apply(events: Any) -> None:
        await units.run(event_type, events)

    return apply


def _documented(model: Any) -> Callable[..., Awaitable[None]]:
    """A handler that only documents: FastStream reads the message schema from its annotation."""

    async def consumed(event: BaseModel) -> None:  # pragma: no cover - never subscribed
        raise NotImplementedError

    consumed.__annotations__ = {"event": model, "return": None}
    return consumed


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s crashed", task.get_name(), exc_info=task.exception())
