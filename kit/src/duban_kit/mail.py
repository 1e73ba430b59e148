"""E-mail for the services that send it (alerts, reports): SMTP settings, one careful way to send, an honest account.

How the connection is protected, `DUBAN_SMTP_TLS`:

- `starttls` (default) — upgrade with STARTTLS when the server offers it. A server that does not is
  spoken to in plain text, but never given the login: credentials over an unencrypted connection
  are refused, so the message is not sent.
- `starttls-required` — refuse to send at all when the server does not offer STARTTLS.
- `implicit` — TLS from the first byte (SMTPS; port 465 unless `DUBAN_SMTP_PORT` says otherwise).
- `none` — plain text, login included: chosen on purpose, e.g. for a relay on the same host.

Certificates are verified (against the system's CAs, or `DUBAN_SMTP_CA_FILE`) unless
`DUBAN_SMTP_TLS_VERIFY=false`. The older `DUBAN_SMTP_STARTTLS` still works — true means
`starttls-required`, false `none` — and says once that it is deprecated.

Without `DUBAN_SMTP_HOST` nothing is sent: the services write each message as an `.eml` file and
record that outcome as `written`, never `sent`; start-up says so, and `/readyz` reports it.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosmtplib
from pydantic import BaseModel, Field, SecretStr

log = logging.getLogger(__name__)


class TlsMode(StrEnum):
    STARTTLS = "starttls"
    STARTTLS_REQUIRED = "starttls-required"
    IMPLICIT = "implicit"
    NONE = "none"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25
    tls: TlsMode = TlsMode.STARTTLS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool = True
    ca_file: str | None = None
    timeout: float = 30.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class MailError(Exception):
    """A message the mail server did not take. `transient`: another try later may succeed."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


async def send_message(message: EmailMessage, server: SmtpServer) -> None:
    """Send one message in one SMTP session, protected as `server.tls` says; `MailError` when it was not taken."""
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.tls is TlsMode.IMPLICIT,
        start_tls=False,  # decided below, so that "not offered" is ours to judge
        validate_certs=server.verify,
        cert_bundle=server.ca_file,
        timeout=server.timeout,
    )
    try:
        await client.connect()
        try:
            await _secure(client, server)
            if server.username is not None:
                await client.login(server.username, server.password or "")
            await client.send_message(message)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
    except MailError:
        raise
    except aiosmtplib.SMTPResponseException as error:  # 4xx: try later; 5xx: refused for good
        answer = f"{server.address} answered {error.code} {error.message}"
        raise MailError(answer, transient=400 <= error.code < 500, code=error.code) from error
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [r.code for r in error.recipients]
        raise MailError(
            f"{server.address} refused every recipient: {error}",
            transient=all(400 <= c < 500 for c in codes),
            code=codes[0] if codes else None,
        ) from error
    except ssl.SSLError as error:
        raise MailError(_tls_failure(server, error), transient=False) from error
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
        if isinstance(error.__cause__, ssl.SSLError):  # implicit TLS: the handshake is part of connecting
            raise MailError(_tls_failure(server, error.__cause__), transient=False) from error
        raise MailError(f"{type(error).__name__}: {error}", transient=True) from error
    except aiosmtplib.SMTPException as error:
        raise MailError(f"{server.address}: {type(error).__name__}: {error}", transient=False) from error
    except OSError as error:  # the network, below what aiosmtplib wraps
        raise MailError(f"{server.address}: {type(error).__name__}: {error}", transient=True) from error


async def _secure(client: aiosmtplib.SMTP, server: SmtpServer) -> None:
    """STARTTLS as the mode asks; refuse what the mode forbids before a word of the message or the login is sent."""
    if server.tls in (TlsMode.STARTTLS, TlsMode.STARTTLS_REQUIRED):
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()  # an old server without ESMTP: it cannot offer STARTTLS either
        if client.supports_extension("starttls"):
            await client.starttls()
        elif server.tls is TlsMode.STARTTLS_REQUIRED:
            raise MailError(
                f"{server.address} does not offer STARTTLS and DUBAN_SMTP_TLS=starttls-required: nothing was sent "
                "(邮件服务器不支持STARTTLS加密，按配置拒绝发送)",
                transient=False,
            )
    encrypted = client.get_transport_info("sslcontext") is not None
    if server.username is not None and not encrypted and server.tls is not TlsMode.NONE:
        raise MailError(
            f"{server.address} does not offer STARTTLS: the SMTP login would travel in clear text, so nothing was "
            "sent. Use DUBAN_SMTP_TLS=implicit if the server speaks SMTPS, or DUBAN_SMTP_TLS=none to allow plain "
            "text on purpose (邮件服务器未提供加密，拒绝以明文发送登录凭据)",
            transient=False,
        )


def _tls_failure(server: SmtpServer, error: BaseException) -> str:
    return (
        f"TLS with {server.address} failed: {error}. Check the server's certificate, or trust its CA with "
        "DUBAN_SMTP_CA_FILE (与邮件服务器建立TLS加密失败)"
    )


# --- settings --------------------------------------------------------------------------------

_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


class MailSettings(BaseModel):
    """The SMTP fields of a service that sends mail (mixed into its settings: `DUBAN_SMTP_*`)."""

    smtp_host: str | None = Field(
        default=None, description="Mail server. Unset: messages are written as .eml files and nobody receives them."
    )
    smtp_port: int | None = Field(default=None, description="Default 465 with implicit TLS, else 25.")
    smtp_tls: TlsMode = Field(
        default=TlsMode.STARTTLS, description="starttls (when offered), starttls-required, implicit (SMTPS) or none."
    )
    smtp_starttls: bool | None = Field(
        default=None, description="Deprecated: true means smtp_tls=starttls-required, false smtp_tls=none."
    )
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls_verify: bool = Field(default=True, description="Verify the server's certificate.")
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle to verify the server with (a private CA).")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    @property
    def effective_smtp_tls(self) -> TlsMode:
        if self.smtp_starttls is None:
            return self.smtp_tls
        if "smtp_tls" in self.model_fields_set:
            _warn_once("DUBAN_SMTP_STARTTLS is deprecated and ignored: DUBAN_SMTP_TLS is set and wins")
            return self.smtp_tls
        mode = TlsMode.STARTTLS_REQUIRED if self.smtp_starttls else TlsMode.NONE
        _warn_once(f"DUBAN_SMTP_STARTTLS is deprecated: read as DUBAN_SMTP_TLS={mode.value}")
        return mode

    def smtp_server(self) -> SmtpServer | None:
        if not self.smtp_host:
            return None
        tls = self.effective_smtp_tls
        return SmtpServer(
            host=self.smtp_host,
            port=self.smtp_port or (465 if tls is TlsMode.IMPLICIT else 25),
            tls=tls,
            username=self.smtp_user,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            verify=self.smtp_tls_verify,
            ca_file=str(self.smtp_ca_file) if self.smtp_ca_file else None,
            timeout=self.smtp_timeout_seconds,
        )


# --- telling the truth about it --------------------------------------------------------------


def mail_delivery(server: SmtpServer | None, mail_dir: Path) -> dict[str, Any]:
    """What `/readyz` says about mail. Informative only: a missing SMTP server does not make a service unready
    (a load balancer should not pull a development instance for it)."""
    if server is None:
        return {
            "delivered": False,
            "outcome": "written",
            "reason": f"no SMTP server is configured (DUBAN_SMTP_HOST): e-mail is written as .eml files to "
            f"{mail_dir} and nobody receives it",
            "affects_readiness": False,
        }
    return {"delivered": True, "outcome": "sent", "server": server.address, "tls": server.tls.value}


def warn_when_mail_is_not_delivered(server: SmtpServer | None, mail_dir: Path, what: str) -> None:
    """The start-up warning, in plain words."""
    if server is None:
        log.warning(
            f"No SMTP server is configured (DUBAN_SMTP_HOST is not set): {what} are NOT e-mailed to anyone — "
            f"they are written as .eml files to {mail_dir} (未配置邮件服务器：邮件只写入文件，不会发出)"
        )
    elif server.tls is TlsMode.NONE:
        login = " and the SMTP login" if server.username else ""
        log.warning(f"DUBAN_SMTP_TLS=none: mail to {server.address}{login} travels unencrypted, as configured")
