"""Consuming from JetStream reliably and fast.

`BatchConsumer` pulls a batch from a durable consumer (plain nats-py: one fetch, one call into the
service's unit of work for the whole batch, no framework work per message) and decides every
message's fate in one place:
- success → ack (after the unit of work's database commit);
- a transient failure (database or NATS unavailable) → nak with a growing delay, for as long as it
  takes;
- any other failure (a poison message, a contract violation) → nak with back-off, and on the last
  allowed attempt → copy to the dead-letter stream with the error and attempt count, then ack, so the
  stream behind it keeps flowing;
- a batch that runs long keeps telling the server its messages are in progress, so they are not
  redelivered;
- a failing batch is retried message by message, so that one poison message fails alone and the
  good ones still commit.

`ReliabilityMiddleware` applies the same policy to the FastStream handlers that remain (request and
reply: the services' commands and queries over NATS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faststream import BaseMiddleware
from faststream.nats.message import NatsMessage
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from pydantic import ValidationError

from .db import is_transient
from .faults import faults, in_consumer_batch
from .metrics import ServiceMetrics

if TYPE_CHECKING:
    from faststream._internal.basic_types import AsyncFuncAny
    from faststream._internal.context.repository import ContextRepo
    from faststream.message import StreamMessage

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """A message that can never be processed: dead-letter it without retrying."""


@dataclass(frozen=True)
class DeliveryPolicy:
    service: str
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    ack_wait_seconds: float
    dead_letter: Callable[[Msg, BaseException, int], Awaitable[None]]
    metrics: ServiceMetrics

    def retry_delay(self, attempt: int) -> float:
        return float(min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(0, attempt - 1)))


def _jetstream_attempt(raw: Any) -> int | None:
    """The delivery count of a JetStream message; None for a core NATS message (a request)."""
    if not isinstance(raw, Msg) or not raw.reply or not raw.reply.startswith("$JS.ACK."):
        return None
    return int(raw.metadata.num_delivered)


class ReliabilityMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, policy: DeliveryPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    @classmethod
    def factory(cls, policy: DeliveryPolicy) -> Callable[..., ReliabilityMiddleware]:
        def build(msg: Any, /, *, context: ContextRepo) -> ReliabilityMiddleware:
            return cls(msg, context=context, policy=policy)

        return build

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        raw = msg.raw_message
        attempt = _jetstream_attempt(raw)
        if attempt is None or not isinstance(msg, NatsMessage):
            return await call_next(msg)
        subject = raw.subject
        started = time.perf_counter()
        heartbeat = _Heartbeat(msg, self.policy.ack_wait_seconds)
        try:
            result = await call_next(msg)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._fail(msg, raw, error, attempt)
            return None
        finally:
            heartbeat.stop()
        try:
            await msg.ack()
        except Exception as error:  # the effect is committed; a lost ack only means a redelivery
            log.warning("ack failed for %s: %r", subject, error)
        outcome = "redelivered" if attempt > 1 else "ok"
        self.policy.metrics.consumed.labels(subject=subject, outcome=outcome).inc()
        self.policy.metrics.handler_duration.labels(subject=subject).observe(time.perf_counter() - started)
        return result

    async def _fail(self, msg: NatsMessage, raw: Msg, error: BaseException, attempt: int) -> None:
        await fail_message(self.policy, raw, error, attempt)


async def fail_message(policy: DeliveryPolicy, raw: Msg, error: BaseException, attempt: int) -> None:
    """A message whose handling failed: nak it with back-off, or dead-letter it and ack it."""
    subject = raw.subject
    permanent = isinstance(error, PermanentError | ValidationError)
    transient = not permanent and is_transient(error)
    give_up = permanent or (not transient and attempt >= policy.max_attempts)
    policy.metrics.consumed.labels(subject=subject, outcome="rejected" if permanent else "error").inc()
    if give_up:
        try:
            await policy.dead_letter(raw, error, attempt)
        except Exception as dlq_error:
            log.error("dead-lettering %s failed, will retry: %r", subject, dlq_error)
            await _settle(raw.nak(delay=policy.retry_delay(attempt)))
            return
        policy.metrics.dead_letters.labels(subject=subject).inc()
        log.error(
            "dead-lettered message from %s after %d attempt(s): %s",
            subject,
            attempt,
            _describe(error),
            extra={"subject": subject, "attempt": attempt, "error": _describe(error)},
        )
        await _settle(raw.ack())
        return
    delay = policy.retry_delay(attempt)
    level = logging.WARNING if transient else logging.ERROR
    log.log(
        level,
        "handling %s failed (attempt %d, %s), retrying in %.1fs: %s",
        subject,
        attempt,
        "transient" if transient else "error",
        delay,
        _describe(error),
        exc_info=not transient,
        extra={"subject": subject, "attempt": attempt, "transient": transient},
    )
    await _settle(raw.nak(delay=delay))


async def _settle(reply: Awaitable[None]) -> None:
    """Send an ack or nak; a lost one only means a redelivery, which the inbox absorbs."""
    try:
        await reply
    except Exception as error:
        log.warning("ack/nak failed: %r", error)


class _Heartbeat:
    """Tells JetStream slow messages are still being worked on (resets their ack timers)."""

    def __init__(self, msg: NatsMessage | Sequence[Msg], ack_wait: float) -> None:
        self._messages: Sequence[NatsMessage | Msg] = (msg,) if isinstance(msg, NatsMessage) else msg
        self._interval = max(0.5, ack_wait / 3)
        self._loop = asyncio.get_running_loop()
        # The first beat comes early: a message may have waited in the fetch for the rest of its batch.
        self._handle: asyncio.TimerHandle | None = self._loop.call_later(self._interval / 2, self._beat)
        self._tasks: set[asyncio.Task[None]] = set()

    def _beat(self) -> None:
        task = self._loop.create_task(self._send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._handle = self._loop.call_later(self._interval, self._beat)

    async def _send(self) -> None:
        for msg in self._messages:
            try:
                await msg.in_progress()
            except Exception as error:
                log.debug("in-progress signal failed: %r", error)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def dead_letter_headers(raw: Msg, error: BaseException, attempt: int, service: str) -> dict[str, str]:
    meta = raw.metadata
    headers = {
        "Nats-Msg-Id": f"dlq:{meta.stream}:{meta.sequence.stream}:{service}",
        "Duban-Service": service,
        "Duban-Original-Subject": raw.subject,
        "Duban-Original-Stream": meta.stream,
        "Duban-Original-Sequence": str(meta.sequence.stream),
        "Duban-Consumer": meta.consumer,
        "Duban-Attempts": str(attempt),
        "Duban-Error": _describe(error),
        "Duban-Failed-At": datetime.now(UTC).isoformat(),
    }
    for key, value in (raw.headers or {}).items():
        if key == "Nats-Msg-Id":
            headers["Duban-Original-Msg-Id"] = value
        elif not key.startswith("Duban-"):
            headers[key] = value
    return headers


Decode = Callable[[Msg], Any]
ApplyBatch = Callable[[Sequence[Any]], Awaitable[None]]


class BatchConsumer:
    """Pulls batches from one durable consumer and applies each batch in one call, then acks.

    `decode` turns a message into what `apply` takes (a contract; raising `ValidationError` or
    `PermanentError` dead-letters that message alone); `apply` is the unit of work of a batch.
    """

    def __init__(
        self,
        *,
        stream: str,
        durable: str,
        decode: Decode,
        apply: ApplyBatch,
        policy: DeliveryPolicy,
        jetstream: Callable[[], JetStreamContext],
        batch_size: int,
        fetch_timeout: float,
        inbox_prefix: bytes,
    ) -> None:
        self.stream = stream
        self.durable = durable
        self.decode = decode
        self.apply = apply
        self.policy = policy
        self._jetstream = jetstream
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.inbox_prefix = inbox_prefix
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._fetching = False

    async def start(self) -> None:
        subscription = await self._jetstream().pull_subscribe_bind(
            durable=self.durable, stream=self.stream, inbox_prefix=self.inbox_prefix
        )
        self._task = asyncio.create_task(self._consume(subscription), name=f"consume:{self.durable}")

    async def stop(self, graceful_seconds: float = 10.0) -> None:
        """Stop fetching; a batch being applied may finish (and be acked) within `graceful_seconds`,
        else it is cancelled: its transaction rolls back and its messages are redelivered later."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        if not self._fetching:
            await asyncio.wait({task}, timeout=graceful_seconds)
        if not task.done():
            if not self._fetching:
                log.warning("a batch from %s still running after %.0fs; cancelling it", self.durable, graceful_seconds)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        try:
            while not self._stopping:
                self._fetching = True
                try:
                    messages = await subscription.fetch(self.batch_size, timeout=self.fetch_timeout)
                except (TimeoutError, ConnectionClosedError, ServiceUnavailableError):
                    continue
                except Exception as error:  # NATS away or the consumer missing: wait, then ask again
                    log.warning("fetching from %s failed: %r", self.durable, error)
                    await asyncio.sleep(1.0)
                    continue
                finally:
                    self._fetching = False
                if messages:
                    await self.handle(messages)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def handle(self, messages: Sequence[Msg]) -> None:
        """Decode, apply the batch once, ack what committed; failures take the policy's course."""
        started = time.perf_counter()
        heartbeat = _Heartbeat(messages, self.policy.ack_wait_seconds)
        try:
            decoded: list[tuple[Msg, Any]] = []
            for msg in messages:
                try:
                    decoded.append((msg, self.decode(msg)))
                except Exception as error:
                    await fail_message(self.policy, msg, error, _attempt(msg))
            if decoded:
                await self._apply(decoded, started)
        finally:
            heartbeat.stop()

    async def _apply(self, decoded: list[tuple[Msg, Any]], started: float) -> None:
        token = in_consumer_batch.set(True)
        try:
            await faults().stall()
            try:
                await self.apply([item for _, item in decoded])
            except Exception as error:
                if len(decoded) == 1 or is_transient(error):
                    for msg, _ in decoded:
                        await fail_message(self.policy, msg, error, _attempt(msg))
                    return
                # Find the poison: apply one by one, so the good ones still commit.
                log.warning(
                    "a batch of %d failed (%s); applying its messages one by one", len(decoded), _describe(error)
                )
                for msg, item in decoded:
                    try:
                        await self.apply([item])
                    except Exception as single_error:
                        await fail_message(self.policy, msg, single_error, _attempt(msg))
                    else:
                        await self._acknowledge([msg], started)
                return
        finally:
            in_consumer_batch.reset(token)
        self.policy.metrics.batch_size.observe(len(decoded))
        await self._acknowledge([msg for msg, _ in decoded], started)

    async def _acknowledge(self, messages: Sequence[Msg], started: float) -> None:
        metrics = self.policy.metrics
        elapsed = time.perf_counter() - started
        outcomes: Counter[tuple[str, str]] = Counter()
        for msg in messages:
            await _settle(msg.ack())
            outcomes[msg.subject, "redelivered" if _attempt(msg) > 1 else "ok"] += 1
        for (subject, outcome), count in outcomes.items():
            metrics.consumed.labels(subject=subject, outcome=outcome).inc(count)
            duration = metrics.handler_duration.labels(subject=subject)
            for _ in range(count):
                duration.observe(elapsed)


def _attempt(msg: Msg) -> int:
    return int(msg.metadata.num_delivered)
