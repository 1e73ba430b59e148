"""Delivers the notifications the book planned: webhook and e-mail, at least once, with an idempotency key.

Rows are read from the `notifications` table (committed with the changes that caused them), sent,
and marked sent; a failed delivery is retried on the next round until `max_attempts`, then marked
failed (and counted) for an operator to look at. A restart neither re-sends what was sent nor
forgets what was not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client import Counter
from sqlalchemy import bindparam, select, update

from duban_kit.db import Database

from ..config import AlertsSettings
from ..domain import notification_from_json
from . import tables as t
from .notify import Channel, EmailReceiver, Notifier, SmtpServer, WebhookReceiver

log = logging.getLogger(__name__)


def channels_from_settings(settings: AlertsSettings, receiver_names: list[str]) -> dict[str, list[Channel]]:
    smtp = None
    if settings.smtp_host:
        smtp = SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
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
                channels.append(WebhookReceiver(url=str(spec["webhook"]), headers=spec.get("headers", {})))
            if "email" in spec:
                channels.append(email(list(spec["email"])))
        result[name] = channels or [email(default_to)]
    return result


class NotificationSender:
    def __init__(
        self, db: Database, settings: AlertsSettings, channels: dict[str, list[Channel]], counter: Counter
    ) -> None:
        self.db = db
        self.settings = settings
        self.channels = channels
        self.counter = counter
        self._wake = asyncio.Event()

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        async with httpx.AsyncClient() as client:
            notifier = Notifier(self.channels, client)
            while True:
                try:
                    await self.send_pending(notifier)
                except Exception as error:  # database down: try again next round
                    log.warning("sending notifications failed: %r", error)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.notify_interval_seconds)

    async def send_pending(self, notifier: Notifier) -> int:
        """Deliver up to 100 pending notifications, oldest first, then record every outcome in one transaction.

        Delivery is at least once: a crash before the outcomes commit re-sends this round's
        notifications (with the same idempotency keys) on the next start.
        """
        n = t.notifications
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(n.c.key, n.c.data, n.c.attempts)
                    .where(n.c.status == "pending")
                    .order_by(n.c.created_at, n.c.key)
                    .limit(100)
                )
            ).all()
        outcomes: list[dict[str, Any]] = []
        try:
            for key, data, attempts_before in rows:
                outcomes.append(await self._deliver_one(notifier, key, data, attempts_before + 1))
        finally:
            # Whatever happened to the rest of the round, what was delivered is not delivered again.
            if outcomes:
                async with self.db.begin() as conn:
                    await conn.execute(update(n).where(n.c.key == bindparam("b_key")), outcomes)
        return len(rows)

    async def _deliver_one(self, notifier: Notifier, key: str, data: str, attempts: int) -> dict[str, Any]:
        """Deliver one notification; its outcome row. A notification that cannot even be built fails like
        a refused one (counted towards its attempts), so it never holds up the round."""
        receiver = "?"
        try:
            notification = notification_from_json(json.loads(data))
            receiver = notification.receiver
            results = await notifier.deliver(notification)
            errors = "; ".join(f"{r.channel}: {r.error}" for r in results if not r.ok) or None
            for result in results:
                self.counter.labels(receiver=receiver, outcome="sent" if result.ok else "failed").inc()
        except Exception as error:
            errors = f"{type(error).__name__}: {error}"
            self.counter.labels(receiver=receiver, outcome="failed").inc()
        ok = errors is None
        status = "sent" if ok else ("failed" if attempts >= self.settings.notify_max_attempts else "pending")
        if not ok:
            log.warning("notification %s to %s not delivered (%s): %s", key, receiver, status, errors)
        return {
            "b_key": key,
            "status": status,
            "attempts": attempts,
            "last_error": errors,
            "delivered_at": datetime.now(UTC) if ok else None,
        }
