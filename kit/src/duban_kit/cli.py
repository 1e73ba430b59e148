"""What the services' command-line plugins share: finding the running system and asking it things."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from pydantic import BaseModel

RUNTIME_FILE = "var/runtime.json"


def home() -> Path:
    return Path(os.environ.get("DUBAN_HOME", "."))


def write_runtime_info(info: dict[str, Any], base: Path | None = None) -> None:
    path = (base or home()) / RUNTIME_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")


def runtime_info(base: Path | None = None) -> dict[str, Any]:
    path = (base or home()) / RUNTIME_FILE
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except ValueError:
        return {}


def nats_url() -> str:
    """DUBAN_NATS_URL, else the server a running `duban up` reported in var/runtime.json."""
    if url := os.environ.get("DUBAN_NATS_URL"):
        return url
    if url := runtime_info().get("nats_url"):
        return str(url)
    raise SystemExit("no NATS to talk to: start the system with `duban up`, or set DUBAN_NATS_URL")


def namespace() -> str:
    return os.environ.get("DUBAN_NAMESPACE") or str(runtime_info().get("namespace") or "duban")


@contextlib.asynccontextmanager
async def client() -> AsyncIterator[Client]:
    options: dict[str, Any] = {"name": "duban-cli"}
    if (user := os.environ.get("DUBAN_NATS_USER")) and (password := os.environ.get("DUBAN_NATS_PASSWORD")):
        options |= {"user": user, "password": password}
    if creds := os.environ.get("DUBAN_NATS_CREDS_FILE"):
        options["user_credentials"] = creds
    if prefix := os.environ.get("DUBAN_NATS_INBOX_PREFIX"):
        options["inbox_prefix"] = prefix
    nc = await nats.connect(servers=[u.strip() for u in nats_url().split(",")], **options)
    try:
        yield nc
    finally:
        await nc.drain()


async def request(subject: str, body: BaseModel | dict[str, Any], timeout: float = 30.0) -> Any:
    payload = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, ensure_ascii=False)
    async with client() as nc:
        try:
            reply = await nc.request(subject, payload.encode(), timeout=timeout)
        except nats.errors.NoRespondersError:
            raise SystemExit(f"no service answers on {subject}: is it running?") from None
        except nats.errors.TimeoutError:
            raise SystemExit(f"no answer on {subject} within {timeout}s") from None
    return json.loads(reply.data)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
