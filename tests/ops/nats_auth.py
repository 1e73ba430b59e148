"""A nats-server running deploy/nats's generated users and permissions, and clients logged in as them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
from nats.aio.client import Client

from duban.isolated import free_port
from tests.support.servers import wait_for_port

from .tools import DEPLOY, require_tool

ACCOUNTS = DEPLOY / "nats" / "accounts.conf"
PASSWORD_VARIABLE = re.compile(r"\$(DUBAN_NATS_\w+_PASSWORD)")
#: The server says "Permissions Violation for Publish to ..."; nats-py hands it on in lower case.
PERMISSIONS_VIOLATION = "permissions violation"
STORE_DIR = re.compile(r'store_dir:\s*"[^"]*"')


def password_variables(accounts: Path = ACCOUNTS) -> list[str]:
    return sorted(set(PASSWORD_VARIABLE.findall(accounts.read_text(encoding="utf-8"))))


def random_passwords(accounts: Path = ACCOUNTS) -> dict[str, str]:
    # A letter first: NATS parses an all-digit variable as a number (see deploy/README.md).
    return {variable: "p" + secrets.token_hex(16) for variable in password_variables(accounts)}


def password_of(user: str, passwords: dict[str, str]) -> str:
    return passwords[f"DUBAN_NATS_{user.upper().replace('-', '_')}_PASSWORD"]


def wait_healthy(http_port: int, timeout: float = 20.0) -> None:
    """Until /healthz says JetStream is usable (in a cluster: a meta leader is elected)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=1.0)
            if response.status_code == 200:
                return
            last = response.text
        time.sleep(0.1)
    raise TimeoutError(f"nats-server on monitor port {http_port} not healthy after {timeout}s: {last}")


@dataclass
class NatsNode:
    """One nats-server process started from a configuration file, with command-line overrides."""

    config: Path
    env: dict[str, str]
    client_port: int
    http_port: int
    overrides: list[str] = field(default_factory=list)
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def start(self) -> None:
        log = (self.log or self.config.with_suffix(".log")).open("ab")
        try:
            self.process = subprocess.Popen(
                [require_tool("nats-server"), "-c", str(self.config), *self.overrides],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        try:
            wait_for_port(self.client_port)
        except TimeoutError:
            raise TimeoutError(f"nats-server did not start: {self.read_log()}") from None

    def read_log(self) -> str:
        path = self.log or self.config.with_suffix(".log")
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


def write_with_store(config: Path, target: Path, store: Path) -> None:
    """A copy of `config` whose JetStream store is `store` (nats-server refuses a second store_dir)."""
    text, count = STORE_DIR.subn(f'store_dir: "{store.as_posix()}"', config.read_text(encoding="utf-8"))
    assert count == 1, f"{config} should set store_dir exactly once"
    target.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def secured_server(root: Path, accounts: Path = ACCOUNTS) -> Iterator[tuple[NatsNode, dict[str, str]]]:
    """deploy/nats/compose.conf (JetStream, sync_interval: always, the generated accounts — or
    `accounts`) on random loopback ports and a private store; yields the server and every user's password."""
    passwords = random_passwords(accounts)
    write_with_store(DEPLOY / "nats" / "compose.conf", root / "nats-server.conf", root / "store")
    shutil.copy(accounts, root / "accounts.conf")
    node = NatsNode(
        config=root / "nats-server.conf",
        env=passwords,
        client_port=free_port(),
        http_port=free_port(),
    )
    node.overrides = ["-a", "127.0.0.1", "-p", str(node.client_port), "-m", str(node.http_port)]
    node.start()
    try:
        wait_healthy(node.http_port)
        yield node, passwords
    finally:
        node.stop(kill=True)  # a throw-away store: no need for an orderly JetStream shutdown


@dataclass
class Session:
    """A client logged in as one user, with the server's errors its error callback received."""

    user: str
    nc: Client
    errors: list[Exception]

    def violations(self) -> list[str]:
        return [str(error).lower() for error in self.errors if PERMISSIONS_VIOLATION in str(error).lower()]

    async def violation(self, fragment: str, timeout: float = 3.0) -> str:
        """The server's permissions-violation error mentioning `fragment`; fails if none arrives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.violations():
                if fragment.lower() in message:
                    return message
            await asyncio.sleep(0.02)
        raise AssertionError(f"no permissions violation for {fragment!r} reached {self.user}; got {self.errors}")

    async def no_violation(self) -> None:
        """No refusal reached this client for anything it sent so far.

        The server answers a connection's operations in order, and the client hands an `-ERR` to the
        error callback before it reads the next line: once the PONG of a flush is in, every refusal of
        what was sent before it has been seen.
        """
        await self.nc.flush()
        assert self.violations() == [], f"{self.user} was refused: {self.violations()}"


@contextlib.asynccontextmanager
async def session(
    servers: str | list[str], user: str, password: str, *, own_inbox: bool = True
) -> AsyncIterator[Session]:
    errors: list[Exception] = []

    async def error_cb(error: Exception) -> None:
        errors.append(error)

    options: dict[str, object] = {}
    if own_inbox:
        options["inbox_prefix"] = f"_INBOX_{user}"
    nc = await nats.connect(
        servers,
        user=user,
        password=password,
        name=f"ops-test-{user}",
        error_cb=error_cb,
        allow_reconnect=False,
        connect_timeout=5,
        **options,
    )
    try:
        yield Session(user=user, nc=nc, errors=errors)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
