"""Real local receivers for notification tests: an HTTP server and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from tests.support.servers import free_port


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
    """Answers DATA with replies[n] (the last one repeats) and keeps what it accepted."""

    replies: list[str] = field(default_factory=lambda: ["250 OK"])
    accepted: list[Envelope] = field(default_factory=list)
    calls: int = 0

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        reply = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        if reply.startswith("250"):
            self.accepted.append(envelope)
        return reply


@contextmanager
def smtp_server(mailbox: Mailbox, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
