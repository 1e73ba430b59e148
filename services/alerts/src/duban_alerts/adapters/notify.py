"""Notification receivers: JSON webhooks and e-mail (SMTP, or `.eml` files when no server is set).

A domain `Notification` names a receiver (e.g. 安全稳定股); the `Notifier` maps that name to its
channels and delivers to each. Every delivery carries the notification's idempotency key — as the
`Idempotency-Key` header of a webhook, as the Message-ID of an e-mail, as the name of a `.eml` file —
so a retried or replayed notification can be recognised downstream.
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import aiosmtplib
import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_exponential

from duban_contracts.events import Severity

from ..domain import Alert, Notification

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
SEVERITY_ZH = {Severity.INFO: "提示", Severity.WARNING: "警告", Severity.MAJOR: "重要", Severity.CRITICAL: "严重"}
REASON_ZH = {"new": "新告警", "changed": "告警更新", "repeat": "重复提醒", "resolved": "告警解除"}
LADDER_ZH = ("提醒", "催办", "督办")


# --- receivers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """Exponential backoff: `initial`, doubling, capped at `maximum`, for at most `attempts` tries."""

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0


@dataclass(frozen=True)
class WebhookReceiver:
    url: str
    timeout: float = 10.0
    retry: Retry = Retry()
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25
    starttls: bool = False
    use_tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class EmailReceiver:
    to: tuple[str, ...]
    sender: str = "duban@localhost"
    smtp: SmtpServer | None = None  # None: write .eml files under `outbox`
    outbox: Path = Path("out/mail")
    retry: Retry = Retry()


Channel = WebhookReceiver | EmailReceiver


@dataclass(frozen=True)
class DeliveryResult:
    receiver: str
    channel: Literal["webhook", "smtp", "file", "none"]
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    target: str | None = None  # the URL, the recipients, or the file written


# --- content ---------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def alert_payload(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "status": "resolved" if not alert.is_open else alert.state.value,
        "severity": alert.severity.value,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "title_zh": alert.title_zh,
        "summary_zh": alert.summary_zh,
        "count": alert.count,
        "first_seen": _iso(alert.first_seen),
        "last_seen": _iso(alert.last_seen),
        "resolved_at": _iso(alert.resolved_at),
        "escalation_level": alert.escalation_level,
        "stage": alert.stage,
    }


def notification_payload(notification: Notification) -> dict[str, Any]:
    """The webhook body: shaped like Alertmanager's webhook payload, with duban's fields added."""
    return {
        "version": "1",
        "key": notification.key,
        "receiver": notification.receiver,
        "status": "firing" if notification.firing else "resolved",
        "reason": notification.reason,
        "group_key": notification.group_key,
        "group_labels": dict(notification.group_labels),
        "created_at": notification.created_at.isoformat(),
        "alerts": [alert_payload(alert) for alert in (*notification.firing, *notification.resolved)],
    }


def _alert_lines(alert: Alert, zone: ZoneInfo) -> list[str]:
    step = LADDER_ZH[min(alert.escalation_level, len(LADDER_ZH) - 1)]
    first, last = (moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") for moment in (alert.first_seen, alert.last_seen))
    seen = f"首次 {first}，最近 {last}"
    return [
        f"【{SEVERITY_ZH[alert.severity]}】{alert.title_zh}",
        f"    {alert.summary_zh}",
        f"    {seen}，共{alert.count}次，当前：{step}",
        f"    告警编号：{alert.id}",
    ]


def email_subject(notification: Notification) -> str:
    firing = notification.firing
    if not firing:
        return f"【督办】{notification.receiver}：{len(notification.resolved)}条告警已解除"
    worst = max(firing, key=lambda alert: list(SEVERITY_ZH).index(alert.severity))
    headline = (
        worst.title_zh
        if len(firing) == 1
        else f"{len(firing)}条告警，最高{SEVERITY_ZH[worst.severity]}：{worst.title_zh}"
    )
    return f"【督办{REASON_ZH[notification.reason]}】{headline}"


def email_body(notification: Notification, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    group = "，".join(f"{name}={value}" for name, value in notification.group_labels.items()) or "全部"
    lines = [
        f"{REASON_ZH[notification.reason]}（{notification.created_at.astimezone(zone):%Y-%m-%d %H:%M}）",
        f"接收：{notification.receiver}    分组：{group}",
        "",
    ]
    if notification.firing:
        lines.append(f"正在告警（{len(notification.firing)}条）：")
        for alert in notification.firing:
            lines.extend(_alert_lines(alert, zone))
        lines.append("")
    if notification.resolved:
        lines.append(f"已解除（{len(notification.resolved)}条）：")
        for alert in notification.resolved:
            lines.extend(_alert_lines(alert, zone))
        lines.append("")
    lines.append(f"通知编号：{notification.key}")
    return "\n".join(lines) + "\n"


class _MailPolicy(EmailPolicy):
    """`email.policy.SMTP`, except that the headers every mail of a receiver repeats are parsed and folded once."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if self is _MAIL_POLICY:
            remembered = _FOLDED.get(id(value))
            if remembered is not None and remembered[0] is value:
                return remembered[1]
        return super().fold_binary(name, value)


_MAIL_POLICY = _MailPolicy(linesep="\r\n")  # the settings of email.policy.SMTP
#: id(header) → (the header, its folded bytes under _MAIL_POLICY), for the headers of `_repeated_header`.
_FOLDED: dict[int, tuple[Any, bytes]] = {}


@functools.cache
def _repeated_header(name: str, value: str) -> Any:
    """The parsed header (From, To, X-Duban-Receiver), built once; it is folded once too (see `_MailPolicy`)."""
    header = _MAIL_POLICY.header_factory(name, value)
    _FOLDED[id(header)] = (header, super(_MailPolicy, _MAIL_POLICY).fold_binary(name, header))
    return header


def render_email(notification: Notification, receiver: EmailReceiver, zone: ZoneInfo = DEFAULT_ZONE) -> EmailMessage:
    """A UTF-8 message whose headers and body depend only on the notification (so re-sends are identical)."""
    message = EmailMessage(policy=_MAIL_POLICY)
    message["Subject"] = email_subject(notification)
    message["From"] = _repeated_header("From", receiver.sender)
    message["To"] = _repeated_header("To", ", ".join(receiver.to))
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = f"<{notification.key}@duban>"
    message["X-Duban-Receiver"] = _repeated_header("X-Duban-Receiver", notification.receiver)
    message.set_content(email_body(notification, zone), charset="utf-8")
    return message


# --- delivery --------------------------------------------------------------------------------


class _Transient(Exception):
    """Worth another try: a 5xx (or 408/429) answer, a timeout, a refused connection."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _retrying(retry: Retry) -> AsyncRetrying:
    return AsyncRetrying(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.initial, max=retry.maximum),
        retry=retry_if_exception_type(_Transient),
        reraise=False,
    )


_RETRYABLE_STATUS = {408, 429}


async def send_webhook(
    notification: Notification, receiver: WebhookReceiver, client: httpx.AsyncClient, name: str | None = None
) -> DeliveryResult:
    """POST the notification as JSON; retry 5xx, 408, 429 and connection errors with backoff."""
    label = name or notification.receiver
    headers = {**receiver.headers, "Idempotency-Key": notification.key}
    body = notification_payload(notification)
    attempts = 0

    async def post() -> httpx.Response:
        nonlocal attempts
        attempts += 1
        try:
            response = await client.post(receiver.url, json=body, headers=headers, timeout=receiver.timeout)
        except httpx.TransportError as error:  # connection refused, reset, timeouts
            raise _Transient(f"{type(error).__name__}: {error}") from error
        if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS:
            raise _Transient(f"HTTP {response.status_code}", response.status_code)
        return response

    try:
        async for attempt in _retrying(receiver.retry):
            with attempt:
                response = await post()
    except RetryError as failed:
        last = failed.last_attempt.exception()
        status = last.status if isinstance(last, _Transient) else None
        return DeliveryResult(label, "webhook", False, attempts, status, str(last), receiver.url)
    ok = response.is_success
    error = None if ok else f"HTTP {response.status_code}"
    return DeliveryResult(label, "webhook", ok, attempts, response.status_code, error, receiver.url)


async def send_email(
    notification: Notification, receiver: EmailReceiver, zone: ZoneInfo = DEFAULT_ZONE, name: str | None = None
) -> DeliveryResult:
    """Send through SMTP when a server is configured, otherwise write `<outbox>/<key>.eml`."""
    label = name or notification.receiver
    message = render_email(notification, receiver, zone)
    if receiver.smtp is None:
        path = await asyncio.to_thread(_write_eml, receiver.outbox, notification.key, bytes(message))
        return DeliveryResult(label, "file", True, 1, target=str(path))
    smtp = receiver.smtp
    attempts = 0

    async def send() -> None:
        nonlocal attempts
        attempts += 1
        try:
            await aiosmtplib.send(
                message,
                hostname=smtp.host,
                port=smtp.port,
                start_tls=smtp.starttls,
                use_tls=smtp.use_tls,
                username=smtp.username,
                password=smtp.password,
                timeout=smtp.timeout,
            )
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
            raise _Transient(f"{type(error).__name__}: {error}") from error
        except aiosmtplib.SMTPResponseException as error:
            if 400 <= error.code < 500:  # 4xx: try again later
                raise _Transient(f"SMTP {error.code} {error.message}", error.code) from error
            raise

    recipients = ", ".join(receiver.to)
    try:
        async for attempt in _retrying(receiver.retry):
            with attempt:
                await send()
    except RetryError as failed:
        last = failed.last_attempt.exception()
        status = last.status if isinstance(last, _Transient) else None
        return DeliveryResult(label, "smtp", False, attempts, status, str(last), recipients)
    except aiosmtplib.SMTPException as error:
        code = error.code if isinstance(error, aiosmtplib.SMTPResponseException) else None
        return DeliveryResult(label, "smtp", False, attempts, code, f"{type(error).__name__}: {error}", recipients)
    return DeliveryResult(label, "smtp", True, attempts, 250, None, recipients)


def _write_eml(outbox: Path, key: str, content: bytes) -> Path:
    """Write atomically; the name comes from the idempotency key, so a re-send replaces, never duplicates."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{key}.eml"
    with tempfile.NamedTemporaryFile(dir=outbox, prefix=f".{key}.", suffix=".tmp", delete=False) as handle:
        handle.write(content)
        temporary = Path(handle.name)
    os.replace(temporary, path)
    return path


class Notifier:
    """Delivers notifications to the channels configured for each receiver name."""

    def __init__(
        self,
        receivers: Mapping[str, Sequence[Channel]],
        client: httpx.AsyncClient,
        zone: ZoneInfo = DEFAULT_ZONE,
    ) -> None:
        self._receivers = receivers
        self._client = client
        self._zone = zone

    async def deliver(self, notification: Notification) -> list[DeliveryResult]:
        channels = self._receivers.get(notification.receiver)
        if not channels:
            return [DeliveryResult(notification.receiver, "none", False, 0, error="no channel configured")]
        return list(await asyncio.gather(*(self._send(notification, channel) for channel in channels)))

    async def _send(self, notification: Notification, channel: Channel) -> DeliveryResult:
        if isinstance(channel, WebhookReceiver):
            return await send_webhook(notification, channel, self._client)
        return await send_email(notification, channel, self._zone)
