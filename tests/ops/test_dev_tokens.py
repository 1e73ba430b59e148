"""`duban up` hands every service a development tokens file — made once under var/ (admin, operator and
reader tokens, random, mode 0600) unless the user gave tokens of their own — and prints the admin
token and the file's path. `duban tokens init` makes the same file for containers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from nats.aio.client import Client
from typer.testing import CliRunner

from duban.cli import app as duban_cli
from duban.isolated import free_port, isolated_stack
from duban.runtime import Stack, dev_tokens, user_gave_tokens
from duban_contracts.topology import Topology
from duban_kit.tokens import Identity, Role, generate_token, load_tokens

pytestmark = pytest.mark.timeout(180)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_development_tokens_are_made_once_private_and_kept(tmp_path: Path) -> None:
    first = dev_tokens(tmp_path / "var")
    assert first.path is not None
    made = first.path.read_text(encoding="utf-8")
    first.path.chmod(0o644)

    again = dev_tokens(tmp_path / "var")

    assert first.path == tmp_path / "var" / "api-tokens"
    assert mode_of(first.path) == 0o600
    assert again == first
    assert first.path.read_text(encoding="utf-8") == made
    holders = load_tokens(first.path, None)
    assert sorted(holders.values(), key=lambda i: i.role) == [
        Identity("admin", Role.ADMIN),
        Identity("operator", Role.OPERATOR),
        Identity("reader", Role.READER),
    ]
    assert holders[first.admin or ""] == Identity("admin", Role.ADMIN)


@pytest.mark.parametrize(
    ("environ", "given"),
    [
        ({}, False),
        ({"DUBAN_API_TOKENS": "x"}, True),
        ({"DUBAN_API_TOKENS_FILE": "/etc/tokens"}, True),
        ({"DUBAN_TASKS_API_TOKENS_FILE": "/etc/tokens"}, True),
        ({"DUBAN_API_TOKENS": ""}, False),
        ({"DUBAN_READ_REQUIRES_TOKEN": "true"}, False),
    ],
)
def test_tokens_of_the_users_own_are_recognised(environ: dict[str, str], given: bool) -> None:
    assert user_gave_tokens(environ) is given


@contextlib.asynccontextmanager
async def tasks_only(nats_url: str, namespace: str, home: Path, env: dict[str, str]) -> AsyncIterator[Stack]:
    """`duban up`'s Stack with the tasks service alone (enough to see what it was given)."""
    with mock.patch.dict(os.environ):
        for key in ("DUBAN_API_TOKENS", "DUBAN_API_TOKENS_FILE"):
            if key not in env:
                os.environ.pop(key, None)
        async with isolated_stack(
            nats_url=nats_url, namespace=namespace, home=home, extra_env=env, services=("tasks",)
        ) as stack:
            yield stack


async def status(stack: Stack, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"http://127.0.0.1:{stack.ports['tasks']}/api/status", headers=headers)
    return response.status_code


async def test_duban_up_gives_the_services_its_development_tokens(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    async with tasks_only(nats_url, namespace, tmp_path, {}) as stack:
        seen = (await status(stack, None), await status(stack, stack.api_tokens.admin))

    assert seen == (401, 200)
    assert stack.api_tokens.path == tmp_path / "var" / "api-tokens"
    assert mode_of(stack.api_tokens.path) == 0o600


async def test_duban_up_leaves_the_users_own_tokens_alone(nats_url: str, namespace: str, tmp_path: Path) -> None:
    own = generate_token()
    async with tasks_only(nats_url, namespace, tmp_path, {"DUBAN_API_TOKENS": f"{own}:reader:me"}) as stack:
        seen = (await status(stack, None), await status(stack, own))

    assert seen == (401, 200)
    assert stack.api_tokens.path is None
    assert not (tmp_path / "var" / "api-tokens").exists()


@pytest.mark.slow
async def test_duban_up_prints_the_admin_token_and_where_the_tokens_are(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
        "DUBAN_NATS_URL": nats_url,
        "DUBAN_NAMESPACE": namespace,
        "DUBAN_HOME": str(tmp_path),
        "DUBAN_RUNTIME_PORT": str(free_port()),
        **{f"DUBAN_{s.upper()}_HTTP_PORT": str(free_port()) for s in ("ingest", "tasks", "alerts", "reports")},
    }
    duban = Path(sys.executable).parent / "duban"
    process = await asyncio.create_subprocess_exec(
        str(duban), "up", "--once", "--feed", "none", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=150)
    text = output.decode(errors="replace")

    assert process.returncode == 0, text
    tokens_file = tmp_path / "var" / "api-tokens"
    admin = next(t for t, who in load_tokens(tokens_file, None).items() if who.role is Role.ADMIN)
    shown = re.sub(r"\s+", "", text)  # the console wraps long lines
    assert f"admintoken{admin}" in shown, text
    assert str(tokens_file).replace(" ", "") in shown, text
    runtime = json.loads((tmp_path / "var" / "runtime.json").read_text(encoding="utf-8"))
    assert runtime["api_tokens_file"] == str(tokens_file)


def test_tokens_init_makes_the_file_and_the_readers_own_once(tmp_path: Path) -> None:
    file, reader_file = tmp_path / "tokens" / "api-tokens", tmp_path / "tokens" / "prometheus.token"
    runner = CliRunner()

    first = runner.invoke(duban_cli, ["tokens", "init", str(file), f"--reader-token-file={reader_file}"])
    made = file.read_text(encoding="utf-8")
    again = runner.invoke(duban_cli, ["tokens", "init", str(file), f"--reader-token-file={reader_file}"])

    assert (first.exit_code, again.exit_code) == (0, 0), first.output + again.output
    assert "made" in first.output
    assert "kept" in again.output
    assert file.read_text(encoding="utf-8") == made
    assert (mode_of(file), mode_of(reader_file)) == (0o600, 0o600)
    reader = reader_file.read_text(encoding="utf-8").strip()
    assert load_tokens(file, None)[reader] == Identity("reader", Role.READER)
