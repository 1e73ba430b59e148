"""One delivery attempt to one channel, against real local servers: an HTTP server in a thread, and aiosmtpd."""

from __future__ import annotations

import contextlib
import email
import email.policy
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import Envelope

from duban.isolated import free_port
from duban_alerts.adapters.notify import (
    EmailReceiver,
    WebClient,
    WebhookReceiver,
    deliver,
    send_email,
    send_webhook,
)
from duban_alerts.domain import Notification
from duban_kit.mail import SmtpServer
from tests.alerts.alerts_support import incident, new_book
from tests.support.receivers import Mailbox, Script, http_server, smtp_server


def a_notification() -> Notification:
    """A real notification: a drowning with one death at 巴中市第二中学, told to the leadership at once."""
    book = new_book()
    fact = incident(deaths=1)
    book.apply_incident(fact)
    (notification,) = book.plan_notifications(fact.reported_at)
    return notification


# --- a scripted HTTP server --------------------------------------------------------------------


async def test_a_webhook_posts_the_notification_once_as_json_with_its_idempotency_key() -> None:
    notification = a_notification()
    with http_server(Script([200])) as script:
        async with contextlib.aclosing(WebClient()) as client:  # the client the sender runs with
            result = await send_webhook(notification, WebhookReceiver(script.url), client)

    assert (result.ok, result.outcome, result.status) == (True, "sent", 200)
    assert [r.headers["Idempotency-Key"] for r in script.received] == [notification.key]
    body = script.received[0].body
    assert body["receiver"] == "局领导"
    assert body["status"] == "firing"
    assert body["alerts"][0]["severity"] == "critical"
    assert "溺水" in body["alerts"][0]["title_zh"]


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True), (400, False), (404, False)])
async def test_a_refused_webhook_is_a_failure_worth_retrying_only_when_retrying_can_help(
    status: int, transient: bool
) -> None:
    with http_server(Script([status])) as script:
        async with httpx.AsyncClient() as client:
            result = await send_webhook(a_notification(), WebhookReceiver(script.url), client)

    assert (result.ok, result.outcome, result.status, result.transient) == (False, "failed", status, transient)
    assert len(script.received) == 1  # one attempt: retrying is the sender's business


async def test_an_endpoint_that_does_not_answer_in_time_is_cut_off_as_a_transient_failure() -> None:
    with http_server(Script([200], delays=[5.0])) as script:
        async with httpx.AsyncClient() as client:
            result = await deliver(a_notification(), WebhookReceiver(script.url), client, timeout=0.2)

    assert (result.ok, result.transient) == (False, True)
    assert result.error is not None


async def test_a_refused_connection_is_a_transient_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    async with contextlib.aclosing(WebClient()) as client:
        result = await send_webhook(a_notification(), WebhookReceiver(url), client)

    assert (result.ok, result.transient, result.status) == (False, True, None)
    assert result.error is not None
    assert "ConnectError" in result.error


def test_a_webhook_is_named_without_the_path_or_query_that_may_hold_its_token() -> None:
    hook = WebhookReceiver("https://user:pw@hooks.example:8443/services/T00/B00/XXXX?token=abc")

    assert hook.label == "https://hooks.example:8443/…"
    assert hook.channel_id.startswith("webhook:")
    assert "XXXX" not in hook.channel_id and "abc" not in hook.channel_id
    assert hook.channel_id != WebhookReceiver("https://hooks.example:8443/services/T00/B00/YYYY").channel_id


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

    assert (result.ok, result.channel, result.outcome) == (True, "smtp", "sent")
    (envelope,) = mailbox.accepted
    assert envelope.rcpt_tos == ["leader@bz.edu.cn", "office@bz.edu.cn"]
    message = parsed(envelope)
    assert message["Subject"].startswith("【督办新告警】巴中市第二中学发生溺水事件")
    assert message["Message-ID"] == f"<{notification.key}@duban>"
    body = message.get_content()
    assert "【严重】巴中市第二中学发生溺水事件（死亡1人）" in body
    assert "接收：局领导" in body


async def test_a_temporary_smtp_refusal_is_worth_retrying_and_a_permanent_one_is_not() -> None:
    temporary, permanent = Mailbox(["451 try again later"]), Mailbox(["554 rejected"])
    with smtp_server(temporary) as port_a, smtp_server(permanent) as port_b:
        later = await send_email(
            a_notification(), EmailReceiver(("a@bz.edu.cn",), smtp=SmtpServer("127.0.0.1", port_a))
        )
        never = await send_email(
            a_notification(), EmailReceiver(("a@bz.edu.cn",), smtp=SmtpServer("127.0.0.1", port_b))
        )

    assert (later.ok, later.transient, later.status) == (False, True, 451)
    assert (never.ok, never.transient, never.status) == (False, False, 554)


async def test_without_smtp_an_email_is_written_once_as_an_eml_file_and_said_to_be_written_not_sent(
    tmp_path: Path,
) -> None:
    notification = a_notification()
    receiver = EmailReceiver(("leader@bz.edu.cn",), outbox=tmp_path / "mail")

    first = await send_email(notification, receiver)
    second = await send_email(notification, receiver)

    assert (first.ok, first.channel, first.outcome) == (True, "file", "written")
    files = list((tmp_path / "mail").iterdir())
    assert [path.name for path in files] == [f"{notification.key}.eml"]
    assert first.target == second.target == str(files[0])
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert "溺水" in str(message["Subject"])
    assert message["Content-Type"].startswith("text/plain")
    assert "utf-8" in message["Content-Type"]


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


def test_the_alerts_service_loads_no_http_client_until_a_webhook_is_called() -> None:
    """httpx (and what it pulls in) costs every alerts process about 7 MiB; most bureaus only send e-mail."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, duban_alerts.app; print('httpx' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
