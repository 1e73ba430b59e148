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
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faststream import BaseMiddleware
from faststream.nats.message import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import ConnectionClosedError
from nats.js import JetStreamContext
from nats.js.api import Header
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
        feed = await PullFeed.open(self._jetstream(), self.stream, self.durable, self.inbox_prefix)
        self._task = asyncio.create_task(self._consume(feed), name=f"consume:{self.durable}")

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

    async def _consume(self, feed: PullFeed) -> None:
        try:
            while not self._stopping:
                self._fetching = True
                try:
                    messages = await feed.fetch(self.batch_size, timeout=self.fetch_timeout)
                except (TimeoutError, ConnectionClosedError):
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
                await feed.close()

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


class ConsumerUnavailable(Exception):
    """The durable consumer (or its stream) is not there to pull from: asked again after a pause."""


class PullFeed:
    """A durable pull consumer's messages, a batch per request, returned as soon as the server has sent them.

    Each fetch asks for up to `batch` messages with `no_wait` and `expires`: the server holds the
    request while the consumer is empty, delivers what there is once there is something, and ends the
    request with a status (404 or 408) straight after — or with the batch's last message, when it
    fills the batch. Every request has a reply subject of its own, so a status ending an earlier
    request is told apart from this one's — nats-py's `fetch` shares one subject between requests,
    took such a late status for its own and then waited out the whole timeout holding a message it
    had already received (replays stalled 2–5 s, a few dozen times a year). Messages are kept
    whichever request brought them: an earlier request still open on the server may deliver after
    its fetch has returned, and the next fetch hands them out.
    """

    def __init__(self, nc: Client, next_subject: str, deliver: str) -> None:
        self._nc = nc
        self._next_subject = next_subject
        self._deliver = deliver
        self._requests = 0
        self._current = ""
        self._wanted = 0
        self._messages: list[Msg] = []
        self._ended = asyncio.Event()
        self._subscription: Subscription | None = None
        self._error: Exception | None = None

    @classmethod
    async def open(cls, js: JetStreamContext, stream: str, durable: str, inbox_prefix: bytes) -> PullFeed:
        nc = js._nc
        deliver = (inbox_prefix + nc._nuid.next()).decode()
        feed = cls(nc, f"{js._prefix}.CONSUMER.MSG.NEXT.{stream}.{durable}", deliver)
        feed._subscription = await nc.subscribe(f"{deliver}.*", cb=feed._on_message)
        return feed

    async def _on_message(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get(Header.STATUS)
        if status is None:
            self._messages.append(msg)  # a stream message (its reply subject acknowledges it)
            if len(self._messages) >= self._wanted:
                self._ended.set()  # a request filled to its batch ends without a status
        elif msg.subject == self._current and status != "100":
            description = headers.get(Header.DESCRIPTION, "").strip()
            if status == "503" or (status == "409" and "deleted" in description.lower()):
                self._error = ConsumerUnavailable(f"{self._next_subject}: {status} {description}".strip())
            self._ended.set()  # 404/408: nothing more for this request; 409: the server refused or ended it
        # a status for an earlier request: that request is over, nothing to do

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to `batch` messages; raises TimeoutError when none came within `timeout` seconds."""
        if not self._messages:
            await self._request(batch, timeout)
        taken, self._messages = self._messages[:batch], self._messages[batch:]
        if not taken:
            error, self._error = self._error, None
            raise error or TimeoutError
        return taken

    async def _request(self, batch: int, timeout: float) -> None:
        self._requests += 1
        self._current = f"{self._deliver}.{self._requests}"
        self._wanted = batch
        self._error = None  # only this request's answer may end the fetch with an error
        self._ended.clear()
        request = {"batch": batch, "expires": int(timeout * 1e9), "no_wait": True}
        await self._nc.publish(self._next_subject, json.dumps(request).encode(), reply=self._current)
        # The status ending the request follows its last message on the same connection: wait for it,
        # with a margin over `expires` for a server that never answers (NATS away).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), timeout=timeout + 1.0)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()


def _attempt(msg: Msg) -> int:
    return int(msg.metadata.num_delivered)
