"""E-mails are rendered with their repeated headers parsed and folded once: the bytes do not change."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import pytest

from duban_alerts.adapters.notify import (
    MAIL_LISTS_AT_MOST,
    EmailReceiver,
    email_body,
    email_subject,
    render_email,
)
from duban_alerts.domain import Notification
from duban_contracts.events import Severity
from tests.alerts.test_notify import a_notification


def plainly_rendered(notification: Notification, receiver: EmailReceiver) -> bytes:
    """The message built the plain way, with `email.policy.SMTP` and string headers."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = email_subject(notification)
    message["From"] = receiver.sender
    message["To"] = ", ".join(receiver.to)
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = f"<{notification.key}@duban>"
    message["X-Duban-Receiver"] = notification.receiver
    message.set_content(email_body(notification), charset="utf-8")
    return bytes(message)


RECEIVERS = [
    EmailReceiver(to=("leader@bz.edu.cn",)),
    EmailReceiver(to=tuple(f"someone-{n}@a-rather-long-domain-name.bazhong.edu.cn" for n in range(7))),
    EmailReceiver(to=("安全稳定股 <safety@bz.edu.cn>", "b@bz.edu.cn"), sender="督办系统 <duban@bz.edu.cn>"),
]
RECEIVER_NAMES = ["安全稳定股", "巴中市巴州区教育科技局安全稳定股与基础教育股联合值班室（节假日）", "ops"]


@pytest.mark.parametrize("receiver", RECEIVERS)
@pytest.mark.parametrize("name", RECEIVER_NAMES)
def test_a_rendered_email_is_byte_for_byte_the_plainly_built_one_every_time(receiver: EmailReceiver, name: str) -> None:
    notification = dataclasses.replace(a_notification(), receiver=name)
    for _ in range(3):  # the first time builds the remembered headers, the next ones reuse them
        assert bytes(render_email(notification, receiver)) == plainly_rendered(notification, receiver)


@pytest.mark.parametrize(
    "title",
    [
        "巴中市第二中学：学生溺水",
        "Bazhou No.2 Middle School — a long English run of words that has to be folded over several lines",
        "a\ttab  and =?utf-8?q?text?= that looks like an encoded word",
        "巴" * 300,
    ],
)
def test_any_subject_reads_back_exactly_as_written(title: str) -> None:
    notification = a_notification()
    alert = dataclasses.replace(notification.firing[0], title_zh=title)
    notification = dataclasses.replace(notification, firing=(alert,))
    sent = bytes(render_email(notification, RECEIVERS[0]))

    read = email.message_from_bytes(sent, policy=email.policy.default)
    assert read["Subject"] == email_subject(notification)
    assert all(len(line) <= 78 for line in sent.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))


def test_a_large_group_lists_the_most_severe_alerts_and_counts_the_rest() -> None:
    notification = a_notification()
    drowning = notification.firing[0]
    warnings = tuple(
        dataclasses.replace(drowning, id=f"w{n}", severity=Severity.WARNING, title_zh=f"数据质量{n}") for n in range(30)
    )
    crowded = dataclasses.replace(notification, firing=(*warnings, drowning))

    body = email_body(crowded)

    assert "正在告警（31条）" in body
    listed = [line for line in body.splitlines() if line.startswith("【")]
    assert len(listed) == MAIL_LISTS_AT_MOST
    assert listed[0] == f"【严重】{drowning.title_zh}"  # the drowning first, though it came last
    assert "另有11条未列出" in body and "duban alerts list" in body
    assert "另有" not in email_body(notification)  # a small group is listed whole


@pytest.mark.parametrize(
    "title",
    [
        "plain ASCII only",
        "巴中市第二中学：学生溺水",
        "巴" * 300,
        "an ASCII line far longer than seventy-eight characters " * 3,
    ],
)
def test_the_body_is_encoded_as_set_content_encodes_it_whatever_its_lines(title: str) -> None:
    notification = a_notification()
    alert = dataclasses.replace(notification.firing[0], summary_zh=title)  # the body's line; the Subject as before
    notification = dataclasses.replace(notification, firing=(alert,))
    receiver = RECEIVERS[0]
    assert bytes(render_email(notification, receiver)) == plainly_rendered(notification, receiver)
