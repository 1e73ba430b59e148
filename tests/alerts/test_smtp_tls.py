"""How alert e-mail is protected, against a real SMTP server (aiosmtpd) with a test CA: each DUBAN_SMTP_TLS mode."""

from __future__ import annotations

import logging

import pytest

import duban_kit.mail
from duban_alerts.adapters.notify import EmailReceiver, send_email
from duban_alerts.config import AlertsSettings
from duban_kit.mail import SmtpServer, TlsMode
from tests.alerts.test_notify import a_notification
from tests.support.receivers import CA_FILE, Mailbox, smtp_server

TO = ("leader@bz.edu.cn",)


def server(port: int, tls: TlsMode, *, login: bool = True, trusted: bool = True) -> SmtpServer:
    return SmtpServer(
        "127.0.0.1",
        port,
        tls=tls,
        username="duban" if login else None,
        password="secret" if login else None,
        ca_file=str(CA_FILE) if trusted else None,
    )


async def test_starttls_offered_is_used_and_the_login_and_message_travel_encrypted() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "starttls", login=True) as port:
        result = await send_email(a_notification(), EmailReceiver(TO, smtp=server(port, TlsMode.STARTTLS)))

    assert (result.ok, result.outcome) == (True, "sent")
    assert mailbox.encrypted == [True]
    assert mailbox.logins == [("duban", "secret", True)]


async def test_starttls_required_refuses_a_server_that_does_not_offer_it_and_sends_no_credentials() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "none", login=True) as port:
        result = await send_email(a_notification(), EmailReceiver(TO, smtp=server(port, TlsMode.STARTTLS_REQUIRED)))

    assert (result.ok, result.outcome, result.transient) == (False, "failed", False)
    assert result.error is not None
    assert "does not offer STARTTLS" in result.error and "starttls-required" in result.error
    assert mailbox.logins == [] and mailbox.accepted == []


async def test_opportunistic_starttls_sends_plain_without_a_login_but_never_gives_a_login_in_clear() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "none", login=True) as port:
        anonymous = await send_email(
            a_notification(), EmailReceiver(TO, smtp=server(port, TlsMode.STARTTLS, login=False))
        )
        with_login = await send_email(a_notification(), EmailReceiver(TO, smtp=server(port, TlsMode.STARTTLS)))

    assert anonymous.ok and mailbox.encrypted == [False]
    assert (with_login.ok, with_login.transient) == (False, False)
    assert with_login.error is not None and "clear text" in with_login.error
    assert mailbox.logins == []
    assert len(mailbox.accepted) == 1


async def test_implicit_tls_encrypts_from_the_first_byte() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "implicit", login=True) as port:
        result = await send_email(a_notification(), EmailReceiver(TO, smtp=server(port, TlsMode.IMPLICIT)))

    assert (result.ok, result.outcome) == (True, "sent")
    assert mailbox.encrypted == [True]
    assert mailbox.logins == [("duban", "secret", True)]


@pytest.mark.parametrize("tls", [TlsMode.STARTTLS, TlsMode.IMPLICIT])
async def test_a_certificate_the_client_cannot_verify_is_refused_before_anything_is_sent(tls: TlsMode) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "implicit" if tls is TlsMode.IMPLICIT else "starttls", login=True) as port:
        result = await send_email(a_notification(), EmailReceiver(TO, smtp=server(port, tls, trusted=False)))

    assert (result.ok, result.transient) == (False, False)
    assert result.error is not None and "TLS" in result.error and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert mailbox.logins == [] and mailbox.accepted == []


async def test_none_sends_plain_text_login_included_when_chosen_on_purpose() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "none", login=True) as port:
        result = await send_email(a_notification(), EmailReceiver(TO, smtp=server(port, TlsMode.NONE)))

    assert result.ok
    assert mailbox.encrypted == [False]
    assert mailbox.logins == [("duban", "secret", False)]


# --- settings --------------------------------------------------------------------------------


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> AlertsSettings:
    for name in ("DUBAN_SMTP_TLS", "DUBAN_SMTP_STARTTLS", "DUBAN_SMTP_PORT", "DUBAN_ALERTS_SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return AlertsSettings.from_env(smtp_host="mail.bz.edu.cn")


def test_starttls_when_offered_is_the_default_and_certificates_are_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    smtp = settings_from(monkeypatch).smtp_server()

    assert smtp is not None
    assert (smtp.tls, smtp.port, smtp.verify) == (TlsMode.STARTTLS, 25, True)


def test_implicit_tls_defaults_to_port_465(monkeypatch: pytest.MonkeyPatch) -> None:
    smtp = settings_from(monkeypatch, DUBAN_SMTP_TLS="implicit").smtp_server()

    assert smtp is not None
    assert (smtp.tls, smtp.port) == (TlsMode.IMPLICIT, 465)


@pytest.mark.parametrize(("flag", "mode"), [("true", TlsMode.STARTTLS_REQUIRED), ("false", TlsMode.NONE)])
def test_the_deprecated_starttls_flag_still_works_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, flag: str, mode: TlsMode
) -> None:
    monkeypatch.setattr(duban_kit.mail, "_warned", set())  # as in a fresh process
    settings = settings_from(monkeypatch, DUBAN_SMTP_STARTTLS=flag)
    with caplog.at_level(logging.WARNING, logger="duban_kit.mail"):
        modes = [settings.effective_smtp_tls, settings_from(monkeypatch).effective_smtp_tls]
        modes += [settings.smtp_server().tls for _ in range(2)]  # type: ignore[union-attr]

    assert modes == [mode, TlsMode.STARTTLS, mode, mode]
    said = [r.getMessage() for r in caplog.records if "DUBAN_SMTP_STARTTLS is deprecated" in r.getMessage()]
    assert said == [f"DUBAN_SMTP_STARTTLS is deprecated: read as DUBAN_SMTP_TLS={mode.value}"]


def test_the_tls_mode_wins_over_the_deprecated_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, DUBAN_SMTP_STARTTLS="false", DUBAN_SMTP_TLS="starttls-required")

    assert settings.effective_smtp_tls is TlsMode.STARTTLS_REQUIRED


def test_an_unknown_tls_mode_is_refused_with_the_modes_there_are(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="starttls-required"):
        settings_from(monkeypatch, DUBAN_SMTP_TLS="ssl")
