"""Notification channels — JSON webhooks and e-mail (SMTP, or `.eml` files when no server is set) — and one
delivery attempt to one of them.

A domain `Notification` names a receiver (e.g. 安全稳定股); each receiver has its channels. The sender
(`sender.py`) keeps one delivery per notification and channel and calls `deliver` once per attempt;
retries, their schedule and the outcome's record are its business. Every delivery carries the
notification's idempotency key — as the `Idempotency-Key` header of a webhook, as the Message-ID of
an e-mail, as the name of a `.eml` file — so a retried or replayed notification can be recognised
downstream.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.contentmanager import _encode_text  # type: ignore[attr-defined]  # what set_content encodes with
from email.header import Header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from duban_contracts.events import Severity
from duban_contracts.timezone import SHANGHAI
from duban_kit.mail import MailError, SmtpServer, send_message

from ..domain import Alert, Notification

if TYPE_CHECKING:
    import httpx

DEFAULT_ZONE = SHANGHAI
SEVERITY_ZH = {Severity.INFO: "提示", Severity.WARNING: "警告", Severity.MAJOR: "重要", Severity.CRITICAL: "严重"}
REASON_ZH = {"new": "新告警", "changed": "告警更新", "repeat": "重复提醒", "resolved": "告警解除"}
LADDER_ZH = ("提醒", "催办", "督办")
#: Alerts an e-mail lists in full, per section: a reader takes in a screenful; the rest are counted and
#: named where to look (a group of data-quality findings can hold hundreds).
MAIL_LISTS_AT_MOST = 20


# --- channels --------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class WebhookReceiver:
    url: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def channel_id(self) -> str:
        """Stable while the URL is; it names the delivery's channel in the database."""
        return f"webhook:{_digest(self.url)}"

    @property
    def label(self) -> str:
        """The URL without its path and query, which may hold a token."""
        parts = urlsplit(self.url)
        rest = "/…" if parts.path not in ("", "/") or parts.query else ""
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{rest}"


@dataclass(frozen=True)
class EmailReceiver:
    to: tuple[str, ...]
    sender: str = "duban@localhost"
    smtp: SmtpServer | None = None  # None: write .eml files under `outbox`
    outbox: Path = Path("out/mail")

    @property
    def channel_id(self) -> str:
        return f"email:{_digest(*sorted(self.to))}"

    @property
    def label(self) -> str:
        return ", ".join(self.to)


Channel = WebhookReceiver | EmailReceiver


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt did. `transient`: a failure that another attempt later may get past."""

    receiver: str
    channel: Literal["webhook", "smtp", "file", "none"]
    ok: bool
    status: int | None = None
    error: str | None = None
    target: str | None = None  # the URL's host, the recipients, or the file written
    transient: bool = False

    @property
    def outcome(self) -> Literal["sent", "written", "failed"]:
        """`sent`: a server took it; `written`: only a file was written (no SMTP), nobody received it."""
        if not self.ok:
            return "failed"
        return "written" if self.channel == "file" else "sent"


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
    for heading, alerts in (("正在告警", notification.firing), ("已解除", notification.resolved)):
        if alerts:
            lines.append(f"{heading}（{len(alerts)}条）：")
            lines.extend(_listed(alerts, zone))
            lines.append("")
    lines.append(f"通知编号：{notification.key}")
    return "\n".join(lines) + "\n"


def _listed(alerts: Sequence[Alert], zone: ZoneInfo) -> list[str]:
    """The most severe first (in their order otherwise), at most `MAIL_LISTS_AT_MOST`, then how many more."""
    rank = list(SEVERITY_ZH)
    shown = sorted(alerts, key=lambda alert: -rank.index(alert.severity))[:MAIL_LISTS_AT_MOST]
    lines = [line for alert in shown for line in _alert_lines(alert, zone)]
    if len(alerts) > len(shown):
        lines.append(f"……另有{len(alerts) - len(shown)}条未列出，请用 duban alerts list 或控制台查看全部。")
    return lines


class _Folded(str):
    """A header value that comes folded already: the policy stores it as it is (it has a `name`) and
    `_MailPolicy` writes its bytes without parsing it again."""

    name: str
    folded: bytes

    @classmethod
    def subject(cls, text: str) -> _Folded:
        """RFC 2047 encoded words, folded by `email.header.Header` about ten times sooner than `email.policy.SMTP`
        (whose parser is most of a mail's cost) — for a Chinese subject the very bytes it writes; text that looks
        like an encoded word stays text, where the policy would decode it."""
        value = cls(text)
        value.name = "Subject"
        encoded = Header(text, "utf-8", header_name="Subject").encode(linesep="\r\n")
        value.folded = f"Subject: {encoded}\r\n".encode("ascii")
        return value

    def fold(self, *, policy: Any) -> str:
        """As a header object folds itself (`as_string`, or a policy other than `_MailPolicy`)."""
        return self.folded.decode("ascii").replace("\r\n", policy.linesep)


class _MailPolicy(EmailPolicy):
    """`email.policy.SMTP`, except that the headers every mail of a receiver repeats are parsed and folded once,
    and a `_Folded` value is written as it came."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if isinstance(value, _Folded):
            return value.folded
        if self is _MAIL_POLICY:
            remembered = _FOLDED.get(id(value))
            if remembered is not None and remembered[0] is value:
                return remembered[1]
        return super().fold_binary(name, value)


class _HeaderClasses(HeaderRegistry):
    """The header registry, its classes made once: `HeaderRegistry` builds a new class for every header it
    parses (a type object, about 12 µs and garbage for the cycle collector), five or so per mail."""

    @functools.cache  # noqa: B019 - one registry for the process's lifetime
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)


_MAIL_POLICY = _MailPolicy(linesep="\r\n", header_factory=_HeaderClasses())  # the settings of email.policy.SMTP
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
    message["Subject"] = _Folded.subject(email_subject(notification))
    message["From"] = _repeated_header("From", receiver.sender)
    message["To"] = _repeated_header("To", ", ".join(receiver.to))
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = f"<{notification.key}@duban>"
    message["X-Duban-Receiver"] = _repeated_header("X-Duban-Receiver", notification.receiver)
    _set_text(message, email_body(notification, zone))
    return message


def _set_text(message: EmailMessage, body: str) -> None:
    """`message.set_content(body, charset="utf-8")`, its headers (the same few in every mail) parsed once:
    the body encoded as `set_content` encodes it (its own `_encode_text` picks 7bit, 8bit or base64), then
    the headers it would set, in its order (a test compares the bytes with `set_content`'s)."""
    transfer_encoding, payload = _encode_text(body, "utf-8", None, message.policy)
    message["Content-Type"] = _repeated_header("Content-Type", 'text/plain; charset="utf-8"')
    message.set_payload(payload)
    message["Content-Transfer-Encoding"] = _repeated_header("Content-Transfer-Encoding", transfer_encoding)
    message["MIME-Version"] = _repeated_header("MIME-Version", "1.0")


# --- one attempt -----------------------------------------------------------------------------


#: Answers worth another try later; any other 4xx, or a redirect, will not change by retrying.
_RETRYABLE_STATUS = {408, 425, 429}


class WebClient:
    """The HTTP client for webhooks, made on the first call: a bureau that only sends e-mail never loads
    httpx (about 7 MiB in every alerts process)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient()
        return await self._client.post(url, **kwargs)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def send_webhook(
    notification: Notification,
    receiver: WebhookReceiver,
    client: httpx.AsyncClient | WebClient,
    timeout: float = 15.0,
) -> DeliveryResult:
    """POST the notification as JSON, once."""
    import httpx  # loaded already: a client exists

    label = receiver.label
    headers = {**receiver.headers, "Idempotency-Key": notification.key}
    try:
        response = await client.post(
            receiver.url, json=notification_payload(notification), headers=headers, timeout=timeout
        )
    except httpx.TransportError as error:  # connection refused or reset, timeouts
        return DeliveryResult(
            notification.receiver, "webhook", False, None, f"{type(error).__name__}: {error}", label, transient=True
        )
    code = response.status_code
    if response.is_success:
        return DeliveryResult(notification.receiver, "webhook", True, code, None, label)
    transient = code >= 500 or code in _RETRYABLE_STATUS
    return DeliveryResult(notification.receiver, "webhook", False, code, f"HTTP {code}", label, transient=transient)


async def send_email(
    notification: Notification, receiver: EmailReceiver, zone: ZoneInfo = DEFAULT_ZONE
) -> DeliveryResult:
    """Send through SMTP, once, when a server is configured; otherwise write `<outbox>/<key>.eml`."""
    message = render_email(notification, receiver, zone)
    if receiver.smtp is None:
        path = await asyncio.to_thread(_write_eml, receiver.outbox, notification.key, bytes(message))
        return DeliveryResult(notification.receiver, "file", True, target=str(path))
    try:
        await send_message(message, receiver.smtp)
    except MailError as error:
        return DeliveryResult(
            notification.receiver, "smtp", False, error.code, str(error), receiver.label, transient=error.transient
        )
    return DeliveryResult(notification.receiver, "smtp", True, 250, None, receiver.label)


def _write_eml(outbox: Path, key: str, content: bytes) -> Path:
    """Write atomically; the name comes from the idempotency key, so a re-send replaces, never duplicates.

    The temporary file is named for the key, this process and this thread: no other writer shares it, so
    it needs no random name (`tempfile` cost twice the write); the folder is made when it is missing."""
    path = outbox / f"{key}.eml"
    temporary = outbox / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        temporary.write_bytes(content)
    except FileNotFoundError:
        outbox.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(content)
    os.replace(temporary, path)
    return path


async def deliver(
    notification: Notification,
    channel: Channel,
    client: httpx.AsyncClient | WebClient,
    timeout: float,
    zone: ZoneInfo = DEFAULT_ZONE,
) -> DeliveryResult:
    """One attempt to one channel, over within `timeout` whatever the other side does."""
    try:
        async with asyncio.timeout(timeout):
            if isinstance(channel, WebhookReceiver):
                return await send_webhook(notification, channel, client, timeout)
            return await send_email(notification, channel, zone)
    except TimeoutError:
        kind: Literal["webhook", "smtp"] = "webhook" if isinstance(channel, WebhookReceiver) else "smtp"
        error = f"no answer within {timeout:g} s"
        return DeliveryResult(notification.receiver, kind, False, None, error, channel.label, transient=True)
