"""Delivers the notifications the book planned: one delivery per notification and channel, each on its own.

The book commits a notification together with the change that caused it (`notifications`, an
outbox). The sender then

1. fans it out: one `notification_deliveries` row per channel of its receiver, written in the same
   transaction that marks the notification dispatched; keyed by (notification, receiver, channel),
   so a crash or a second replica doing the same changes nothing;
2. claims the deliveries that are due, channel by channel: each (receiver, channel) is a lane with
   at most `notify_concurrency` attempts in flight (and a few claims queued behind them, their claim
   long enough for the wait), so a slow or dead endpoint fills its own lane and nobody else's;
3. makes one attempt per claimed delivery, each its own task, over within `notify_timeout_seconds`;
4. records each outcome as it comes (whatever finished meanwhile in one transaction): `sent` (a
   server took it), `written` (an .eml file, because no SMTP server is configured — nobody received
   it), or a failure, tried again after base × 2^(attempt−1) seconds (capped) while it may pass later,
   and `failed` after the last attempt or at once when retrying cannot help (a 4xx, a server without
   the TLS required).

A success is never sent again: a retry resends only the delivery that failed. Delivery is at least
once — a crash between an attempt and its record sends that one delivery again once its claim
expires, with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from prometheus_client import Counter
from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_kit.db import Database, insert_missing, one_of

from ..config import AlertsSettings
from ..domain import notification_from_json
from . import tables as t
from .notify import DEFAULT_ZONE, Channel, DeliveryResult, EmailReceiver, WebClient, WebhookReceiver, deliver

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

#: Statuses of a delivery that is not over yet.
UNFINISHED = ("pending", "sending")
#: A lane claims up to this many deliveries per slot (`notify_concurrency`): the next ones wait in memory, so
#: claiming and recording take one transaction per batch rather than per delivery.
QUEUED_PER_SLOT = 4
#: Notifications given their deliveries in one transaction.
FAN_OUT_BATCH = 500
#: How long a claim outlives the attempt's own timeout before another sender may take the delivery over.
CLAIM_MARGIN = timedelta(seconds=60)

Lane = tuple[str, str]  # (receiver, channel id)


def channels_from_settings(settings: AlertsSettings, receiver_names: list[str]) -> dict[str, list[Channel]]:
    smtp = settings.smtp_server()
    outbox = settings.effective_mail_dir

    def email(to: list[str]) -> EmailReceiver:
        return EmailReceiver(to=tuple(to), sender=settings.mail_sender, smtp=smtp, outbox=outbox)

    configured: dict[str, Any] = {}
    if settings.receivers_file is not None:
        configured = yaml.safe_load(Path(settings.receivers_file).read_text(encoding="utf-8")) or {}
    default_to = [a.strip() for a in settings.default_recipients.split(",") if a.strip()]
    result: dict[str, list[Channel]] = {}
    for name in receiver_names:
        channels: list[Channel] = []
        for spec in configured.get(name, []):
            if "webhook" in spec:
                channels.append(WebhookReceiver(url=str(spec["webhook"]), headers=dict(spec.get("headers", {}))))
            if "email" in spec:
                channels.append(email(list(spec["email"])))
        result[name] = channels or [email(default_to)]
    return result


def sends_email(channels: Mapping[str, Sequence[Channel]]) -> bool:
    return any(isinstance(channel, EmailReceiver) for chosen in channels.values() for channel in chosen)


@dataclass(frozen=True)
class Claimed:
    """A delivery this sender is attempting: `attempts` counts this attempt; `data` is the notification."""

    key: str
    receiver: str
    channel: str
    attempts: int
    data: str = ""

    @property
    def lane(self) -> Lane:
        return (self.receiver, self.channel)


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    status: str
    error: str | None
    next_attempt_at: datetime
    finished_at: datetime | None


class NotificationSender:
    def __init__(
        self,
        db: Database,
        settings: AlertsSettings,
        channels: Mapping[str, Sequence[Channel]],
        counter: Counter,
    ) -> None:
        self.db = db
        self.settings = settings
        self.counter = counter
        self.channels = {name: {c.channel_id: c for c in chosen} for name, chosen in channels.items()}
        self._wake = asyncio.Event()
        self._fresh = True  # notifications may be waiting for their deliveries
        self._record_wake = asyncio.Event()
        self._held: defaultdict[Lane, set[str]] = defaultdict(set)  # claimed here, outcome not yet recorded
        self._lanes: dict[Lane, asyncio.Semaphore] = {}  # attempts under way per lane
        self._outcomes: list[Outcome] = []
        self._attempts: set[asyncio.Task[None]] = set()

    def notify(self) -> None:
        """New notifications are committed."""
        self._fresh = True
        self._wake.set()

    async def run(self) -> None:
        async with contextlib.aclosing(WebClient()) as client:
            recorder = asyncio.create_task(self._record_forever(), name="alerts:notification-records")
            try:
                while True:
                    self._wake.clear()
                    try:
                        await self.dispatch(client)
                    except Exception as error:  # database down: try again next round
                        log.warning("dispatching notifications failed: %r", error)
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=self.settings.notify_interval_seconds)
                    except TimeoutError:  # look again, also for what another replica committed
                        self._fresh = True
                    else:  # woken by a commit: let the next few commits' notifications join this pass
                        await asyncio.sleep(self.settings.notify_coalesce_seconds)
            finally:
                for task in (*self._attempts, recorder):
                    task.cancel()
                await asyncio.gather(*self._attempts, recorder, return_exceptions=True)
                with contextlib.suppress(Exception):  # what finished is recorded if the database lets us
                    await self._flush()

    async def dispatch(self, client: httpx.AsyncClient | WebClient) -> int:
        """One pass: give new notifications their deliveries, then start every due delivery its lane has room for."""
        if self._fresh:
            self._fresh = False
            if await self.fan_out() == FAN_OUT_BATCH:
                self.notify()  # there may be more
        claimed = await self._claim(datetime.now(UTC))
        for delivery in claimed:
            channel = self.channels[delivery.receiver][delivery.channel]
            task = asyncio.create_task(self._attempt(client, delivery, channel), name=f"notify:{delivery.channel}")
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)
        return len(claimed)

    async def drain(self) -> None:
        """Wait for the attempts under way and record their outcomes (tests, and passes run by hand)."""
        await asyncio.gather(*self._attempts, return_exceptions=True)
        await self._flush()

    # --- fan-out ---------------------------------------------------------------------------

    async def fan_out(self, limit: int = FAN_OUT_BATCH) -> int:
        """One delivery per channel for up to `limit` new notifications; a receiver without one fails at once."""
        n, d = t.notifications, t.notification_deliveries
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            query = select(n.c.key, n.c.receiver).where(n.c.status == "pending").order_by(n.c.created_at, n.c.key)
            rows = (await conn.execute(query.limit(limit))).all()
            if not rows:
                return 0
            deliveries: list[dict[str, Any]] = []
            unknown: list[str] = []
            for key, receiver in rows:
                channels = self.channels.get(receiver)
                if not channels:
                    unknown.append(receiver)
                    deliveries.append(_delivery_row(key, receiver, None, now))
                deliveries.extend(_delivery_row(key, receiver, channel, now) for channel in (channels or {}).values())
            await insert_missing(conn, d, deliveries, keys=("notification_key", "receiver", "channel"))
            keys = [key for key, _ in rows]
            await conn.execute(update(n).where(one_of(conn, n.c.key, keys)).values(status="dispatched"))
        for receiver in unknown:
            log.warning("notification to %s not delivered: no channel is configured for it", receiver)
            self.counter.labels(receiver=receiver, outcome="failed").inc()
        return len(rows)

    # --- claiming --------------------------------------------------------------------------

    async def _claim(self, now: datetime) -> list[Claimed]:
        """Take the due deliveries each lane has room for; a claim lasts the attempt's timeout and a margin."""
        d = t.notification_deliveries
        room = self.settings.notify_concurrency * QUEUED_PER_SLOT
        held = max((len(keys) for keys in self._held.values()), default=0)
        due = d.c.status.in_(UNFINISHED) & (d.c.next_attempt_at <= now)
        rank = func.row_number().over(
            partition_by=(d.c.receiver, d.c.channel),
            order_by=(d.c.next_attempt_at, d.c.created_at, d.c.notification_key),
        )
        ranked = select(d.c.notification_key, d.c.receiver, d.c.channel, d.c.attempts, rank.label("rank")).where(due)
        window = ranked.subquery()
        candidates = select(window).where(window.c.rank <= room + held).order_by(window.c.rank)
        claimed: list[Claimed] = []
        gone: list[dict[str, Any]] = []
        async with self.db.begin() as conn:
            wanted: list[Claimed] = []
            taken: defaultdict[Lane, int] = defaultdict(int)
            for key, receiver, channel, attempts, _rank in (await conn.execute(candidates)).all():
                row = Claimed(key, receiver, channel, attempts)  # not claimed yet: attempts so far
                if key in self._held[row.lane] or len(self._held[row.lane]) + taken[row.lane] >= room:
                    continue
                if channel not in self.channels.get(receiver, {}):
                    reason = f"{channel} is no longer a channel of {receiver} (the receivers file changed)"
                    gone.append(_given_up(row, now, reason))
                elif attempts >= self.settings.notify_max_attempts:  # the last attempt was cut short by a stop
                    gone.append(_given_up(row, now, f"attempt {attempts}, the last, was interrupted (投递中断)"))
                else:
                    taken[row.lane] += 1
                    wanted.append(row)
            if gone:
                await conn.execute(_record_statement(), gone)
            if wanted:
                claimed = await self._take(conn, wanted, now)
        for delivery in claimed:
            self._held[delivery.lane].add(delivery.key)
        for failed in gone:
            self.counter.labels(receiver=failed["b_receiver"], outcome="failed").inc()
        return claimed

    async def _take(self, conn: AsyncConnection, wanted: list[Claimed], now: datetime) -> list[Claimed]:
        """Claim the deliveries wanted, in one statement, with their notifications. A delivery another sender has
        just claimed (its attempts moved on) is theirs and left out."""
        d, n = t.notification_deliveries, t.notifications
        lease = now + timedelta(seconds=self.settings.notify_timeout_seconds) * self._rounds(wanted) + CLAIM_MARGIN
        identity = tuple_(d.c.notification_key, d.c.receiver, d.c.channel, d.c.attempts)
        taken = (
            await conn.execute(
                update(d)
                .where(identity.in_([(w.key, w.receiver, w.channel, w.attempts) for w in wanted]))
                .where(d.c.status.in_(UNFINISHED))
                .values(status="sending", attempts=d.c.attempts + 1, next_attempt_at=lease)
                .returning(d.c.notification_key, d.c.receiver, d.c.channel, d.c.attempts)
            )
        ).all()
        if not taken:
            return []
        keys = {key for key, *_ in taken}
        data = dict((await conn.execute(select(n.c.key, n.c.data).where(one_of(conn, n.c.key, keys)))).all())
        return [Claimed(key, receiver, channel, attempts, data[key]) for key, receiver, channel, attempts in taken]

    def _rounds(self, wanted: list[Claimed]) -> int:
        """How many attempts' time the last of these may need: it waits for the ones before it in its lane,
        `notify_concurrency` at a time, then makes its own."""
        load: defaultdict[Lane, int] = defaultdict(int)
        for claim in wanted:
            load[claim.lane] += 1
        slots = self.settings.notify_concurrency
        return max(-(-(len(self._held[lane]) + count) // slots) for lane, count in load.items())

    def _slots(self, lane: Lane) -> asyncio.Semaphore:
        if lane not in self._lanes:
            self._lanes[lane] = asyncio.Semaphore(self.settings.notify_concurrency)
        return self._lanes[lane]

    # --- one attempt and its record ----------------------------------------------------------

    async def _attempt(self, client: httpx.AsyncClient | WebClient, claimed: Claimed, channel: Channel) -> None:
        timeout = self.settings.notify_timeout_seconds
        async with self._slots(claimed.lane):
            try:
                notification = notification_from_json(json.loads(claimed.data))
                result = await deliver(notification, channel, client, timeout, DEFAULT_ZONE)
            except Exception as error:  # it cannot even be built: that will not change by retrying
                result = DeliveryResult(claimed.receiver, "none", False, error=f"{type(error).__name__}: {error}")
        outcome = self._judge(claimed, result, datetime.now(UTC))
        self.counter.labels(receiver=claimed.receiver, outcome=result.outcome).inc()
        if outcome.status in ("pending", "failed"):
            log.warning(
                "notification %s to %s via %s not delivered (attempt %d, %s): %s",
                claimed.key,
                claimed.receiver,
                channel.label,
                claimed.attempts,
                "will retry" if outcome.status == "pending" else "given up",
                result.error,
            )
        self._outcomes.append(outcome)
        self._record_wake.set()

    def _judge(self, claimed: Claimed, result: DeliveryResult, now: datetime) -> Outcome:
        if result.ok:
            return Outcome(claimed, result.outcome, None, now, now)
        if result.transient and claimed.attempts < self.settings.notify_max_attempts:
            wait = min(
                self.settings.notify_retry_base_seconds * 2 ** (claimed.attempts - 1),
                self.settings.notify_retry_max_seconds,
            )
            return Outcome(claimed, "pending", result.error, now + timedelta(seconds=wait), None)
        return Outcome(claimed, "failed", result.error, now, now)

    async def _record_forever(self) -> None:
        while True:
            await self._record_wake.wait()
            self._record_wake.clear()
            try:
                await self._flush()
            except Exception as error:  # database down: keep the outcomes, try again
                log.warning("recording notification outcomes failed: %r", error)
                await asyncio.sleep(self.settings.notify_interval_seconds)
                self._record_wake.set()

    async def _flush(self) -> None:
        batch, self._outcomes = self._outcomes, []
        if not batch:
            return
        rows = [
            {
                "b_key": o.claimed.key,
                "b_receiver": o.claimed.receiver,
                "b_channel": o.claimed.channel,
                "b_attempts": o.claimed.attempts,
                "status": o.status,
                "last_error": o.error,
                "next_attempt_at": o.next_attempt_at,
                "finished_at": o.finished_at,
            }
            for o in batch
        ]
        try:
            async with self.db.begin() as conn:
                await conn.execute(_record_statement(), rows)
        except BaseException:
            self._outcomes[:0] = batch
            raise
        for outcome in batch:
            self._held[outcome.claimed.lane].discard(outcome.claimed.key)
        self._wake.set()  # their lanes have room again


def _delivery_row(key: str, receiver: str, channel: Channel | None, now: datetime) -> dict[str, Any]:
    """A new delivery: due now; or, without a channel, failed at once."""
    row: dict[str, Any] = {
        "notification_key": key,
        "receiver": receiver,
        "channel": "none",
        "kind": "none",
        "target": "—",
        "status": "failed",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": f"no channel is configured for {receiver} (接收人未配置通知渠道)",
        "created_at": now,
        "finished_at": now,
    }
    if channel is not None:
        kind = "webhook" if isinstance(channel, WebhookReceiver) else "email"
        row.update(channel=channel.channel_id, kind=kind, target=channel.label, status="pending")
        row.update(last_error=None, finished_at=None)
    return row


def _given_up(due: Claimed, now: datetime, reason: str) -> dict[str, Any]:
    return {
        "b_key": due.key,
        "b_receiver": due.receiver,
        "b_channel": due.channel,
        "b_attempts": due.attempts,
        "status": "failed",
        "last_error": reason,
        "next_attempt_at": now,
        "finished_at": now,
    }


def _record_statement() -> Any:
    d = t.notification_deliveries
    return update(d).where(
        d.c.notification_key == bindparam("b_key"),
        d.c.receiver == bindparam("b_receiver"),
        d.c.channel == bindparam("b_channel"),
        d.c.attempts == bindparam("b_attempts"),
    )


async def delivery_counts(db: Database) -> dict[str, int]:
    """Deliveries by status: how many were sent, only written to a file, failed, or are still under way
    (`queued`: notifications not yet given their deliveries; `pending`, `sending`)."""
    d, n = t.notification_deliveries, t.notifications
    async with db.read() as conn:
        rows = (await conn.execute(select(d.c.status, func.count()).group_by(d.c.status))).all()
        queued = (await conn.execute(select(func.count()).where(n.c.status == "pending"))).scalar_one()
    counts = dict.fromkeys(("sent", "written", "failed", "queued", "pending", "sending"), 0)
    counts.update({status: int(count) for status, count in rows})
    counts["queued"] = int(queued)
    return counts
