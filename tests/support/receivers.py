"""Real local receivers for notification tests: an HTTP server and an SMTP server (aiosmtpd), plain or TLS.

`tls/` holds a test CA and a certificate for localhost and 127.0.0.1 signed by it (valid until 2126),
made with `openssl req -x509 …` and `openssl x509 -req …`; `CA_FILE` is what a client trusts.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword

from duban.isolated import free_port

TLS_DIR = Path(__file__).parent / "tls"
CA_FILE = TLS_DIR / "ca.pem"


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Script:
    """Answers the n-th request with statuses[n] (the last one repeats), after delays[n] seconds."""

    statuses: list[int]
    delays: list[float] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self, index: int) -> tuple[int, float]:
        status = self.statuses[min(index, len(self.statuses) - 1)]
        delay = self.delays[index] if index < len(self.delays) else 0.0
        return status, delay


@contextmanager
def http_server(script: Script) -> Iterator[Script]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            index = len(script.received)
            script.received.append(Received(dict(self.headers.items()), json.loads(self.rfile.read(length))))
            status, delay = script.answer(index)
            time.sleep(delay)
            with contextlib.suppress(ConnectionError):  # the client gave up waiting
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Mailbox:
    """Answers DATA with replies[n] (the last one repeats) and keeps what it accepted, whether each message came
    over TLS, and every login tried (user, password, over TLS?); a login succeeds with `password`."""

    replies: list[str] = field(default_factory=lambda: ["250 OK"])
    accepted: list[Envelope] = field(default_factory=list)
    encrypted: list[bool] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)
    password: str = "secret"
    calls: int = 0

    async def handle_DATA(self, server: SMTP, session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        reply = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        if reply.startswith("250"):
            self.accepted.append(envelope)
            self.encrypted.append(_over_tls(server))
        return reply

    def authenticator(self, server: SMTP, _session: object, _envelope: object, _how: str, data: object) -> AuthResult:
        assert isinstance(data, LoginPassword)
        password = data.password.decode()
        self.logins.append((data.login.decode(), password, _over_tls(server)))
        return AuthResult(success=password == self.password)


def _over_tls(server: SMTP) -> bool:
    return server.transport is not None and server.transport.get_extra_info("ssl_object") is not None


def server_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
    return context


@contextmanager
def smtp_server(
    mailbox: Mailbox, tls: Literal["none", "starttls", "implicit"] = "none", *, login: bool = False, **kwargs: Any
) -> Iterator[int]:
    """An SMTP server on 127.0.0.1: plain (`none`), offering STARTTLS, or TLS from the start (`implicit`).
    With `login`, it offers AUTH on any connection (so a client that would send credentials in clear can)."""
    port = free_port()
    if tls == "starttls":
        kwargs["tls_context"] = server_tls_context()
    if tls == "implicit":
        kwargs["ssl_context"] = server_tls_context()
    if login:
        kwargs.update(authenticator=mailbox.authenticator, auth_require_tls=False)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
