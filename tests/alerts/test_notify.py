"""Receivers against real local servers: an HTTP server in a thread, and aiosmtpd."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from duban_alerts.adapters.notify import (
    EmailReceiver,
    Notifier,
    Retry,
    SmtpServer,
    WebhookReceiver,
    send_email,
    send_webhook,
)
from duban_alerts.domain import Notification
from tests.alerts.alerts_support import incident, new_book
from tests.support.receivers import Mailbox, Script, http_server, smtp_server
from tests.support.servers import free_port

FAST = Retry(attempts=4, initial=0.01, maximum=0.05)


def a_notification() -> Notification:
    """A real notification: a drowning with one death at 巴中市第二中学, told to the leadership at once."""
    book = new_book()
    fact = incident(deaths=1)
    book.apply_incident(fact)
    (notification,) = book.plan_notifications(fact.reported_at)
    return notification


# --- a scripted HTTP server --------------------------------------------------------------------


async def test_a_webhook_is_retried_after_a_500_and_delivered_once_the_server_answers_200() -> None:
    notification = a_notification()
    with http_server(Script([500, 200])) as script:
        async with httpx.AsyncClient() as client:
            result = await send_webhook(notification, WebhookReceiver(script.url, retry=FAST), client)

    assert (result.ok, result.attempts, result.status) == (True, 2, 200)
    assert [r.headers["Idempotency-Key"] for r in script.received] == [notification.key] * 2
    body = script.received[-1].body
    assert body["receiver"] == "局领导"
    assert body["status"] == "firing"
    assert body["alerts"][0]["severity"] == "critical"
    assert "溺水" in body["alerts"][0]["title_zh"]


async def test_a_webhook_gives_up_after_its_attempts_when_the_server_keeps_failing() -> None:
    with http_server(Script([503])) as script:
        async with httpx.AsyncClient() as client:
            result = await send_webhook(a_notification(), WebhookReceiver(script.url, retry=FAST), client)

    assert (result.ok, result.attempts, result.status) == (False, 4, 503)
    assert len(script.received) == 4


async def test_a_client_error_is_not_retried() -> None:
    with http_server(Script([400])) as script:
        async with httpx.AsyncClient() as client:
            result = await send_webhook(a_notification(), WebhookReceiver(script.url, retry=FAST), client)

    assert (result.ok, result.attempts, result.status) == (False, 1, 400)


async def test_a_slow_answer_times_out_and_is_retried() -> None:
    with http_server(Script([200], delays=[1.0])) as script:
        async with httpx.AsyncClient() as client:
            receiver = WebhookReceiver(script.url, timeout=0.2, retry=FAST)
            result = await send_webhook(a_notification(), receiver, client)

    assert (result.ok, result.attempts) == (True, 2)


async def test_a_refused_connection_is_retried_and_reported_as_failed() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    async with httpx.AsyncClient() as client:
        result = await send_webhook(a_notification(), WebhookReceiver(url, retry=FAST), client)

    assert (result.ok, result.attempts, result.status) == (False, 4, None)
    assert result.error is not None
    assert "ConnectError" in result.error


# --- a real SMTP server --------------------------------------------------------------------------


def parsed(envelope: Envelope) -> EmailMessage:
    content = envelope.original_content or b""
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_an_email_goes_through_smtp_with_a_chinese_subject_and_body() -> None:
    notification = a_notification()
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        receiver = EmailReceiver(
            ("leader@bz.edu.cn", "office@bz.edu.cn"), "duban@bz.edu.cn", SmtpServer("127.0.0.1", port)
        )
        result = await send_email(notification, receiver)

    assert (result.ok, result.channel, result.attempts) == (True, "smtp", 1)
    (envelope,) = mailbox.accepted
    assert envelope.rcpt_tos == ["leader@bz.edu.cn", "office@bz.edu.cn"]
    message = parsed(envelope)
    assert message["Subject"].startswith("【督办新告警】巴中市第二中学发生溺水事件")
    assert message["Message-ID"] == f"<{notification.key}@duban>"
    body = message.get_content()
    assert "【严重】巴中市第二中学发生溺水事件（死亡1人）" in body
    assert "接收：局领导" in body


async def test_an_smtp_login_is_used_when_configured() -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"secret")

    mailbox = Mailbox()
    with smtp_server(mailbox, authenticator=authenticator, auth_require_tls=False) as port:
        smtp = SmtpServer("127.0.0.1", port, username="duban", password="secret")
        result = await send_email(a_notification(), EmailReceiver(("a@bz.edu.cn",), smtp=smtp, retry=FAST))

    assert result.ok
    assert logins == [(b"duban", b"secret")]


async def test_a_temporary_smtp_refusal_is_retried_and_a_permanent_one_is_not() -> None:
    temporary, permanent = Mailbox(["451 try again later", "250 OK"]), Mailbox(["554 rejected"])
    with smtp_server(temporary) as port_a, smtp_server(permanent) as port_b:
        retried = await send_email(
            a_notification(), EmailReceiver(("a@bz.edu.cn",), smtp=SmtpServer("127.0.0.1", port_a), retry=FAST)
        )
        refused = await send_email(
            a_notification(), EmailReceiver(("a@bz.edu.cn",), smtp=SmtpServer("127.0.0.1", port_b), retry=FAST)
        )

    assert (retried.ok, retried.attempts) == (True, 2)
    assert (refused.ok, refused.attempts, refused.status) == (False, 1, 554)


async def test_without_smtp_an_email_is_written_once_as_an_eml_file_named_by_its_key(tmp_path: Path) -> None:
    notification = a_notification()
    receiver = EmailReceiver(("leader@bz.edu.cn",), outbox=tmp_path / "mail")

    first = await send_email(notification, receiver)
    second = await send_email(notification, receiver)

    files = list((tmp_path / "mail").iterdir())
    assert [path.name for path in files] == [f"{notification.key}.eml"]
    assert first.target == second.target == str(files[0])
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert "溺水" in str(message["Subject"])
    assert message["Content-Type"].startswith("text/plain")
    assert "utf-8" in message["Content-Type"]


async def test_the_notifier_delivers_to_every_channel_of_the_receiver_and_reports_unknown_receivers(
    tmp_path: Path,
) -> None:
    notification = a_notification()
    with http_server(Script([200])) as script:
        async with httpx.AsyncClient() as client:
            notifier = Notifier(
                {"局领导": [WebhookReceiver(script.url, retry=FAST), EmailReceiver(("a@bz.edu.cn",), outbox=tmp_path)]},
                client,
            )
            delivered = await notifier.deliver(notification)
            unknown = await notifier.deliver(
                Notification("k", "无此接收人", "g", {}, "new", notification.created_at + timedelta(minutes=1))
            )

    assert [(r.channel, r.ok) for r in delivered] == [("webhook", True), ("file", True)]
    assert [(r.channel, r.ok) for r in unknown] == [("none", False)]


@pytest.mark.parametrize("reason", ["new", "changed", "repeat", "resolved"])
def test_every_notification_reason_has_a_chinese_subject(reason: str) -> None:
    from duban_alerts.adapters.notify import email_subject

    notification = a_notification()
    changed = Notification(
        notification.key,
        notification.receiver,
        notification.group_key,
        notification.group_labels,
        reason,  # type: ignore[arg-type]
        notification.created_at,
        firing=() if reason == "resolved" else notification.firing,
        resolved=notification.firing if reason == "resolved" else (),
    )

    subject = email_subject(changed)

    assert subject.startswith("【督办")
    assert ("已解除" in subject) is (reason == "resolved")
