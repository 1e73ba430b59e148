"""The services' HTTP API asks for a bearer token whose role allows the request.

State-changing endpoints: 401 without a token or with an unknown one, 403 with a role that may not
do it, and through to the handler with one that may. Read-only `/api/…` endpoints need a token by
default (open only with `DUBAN_READ_REQUIRES_TOKEN=false`); `/metrics` is open by default and needs
one with `DUBAN_METRICS_REQUIRES_TOKEN=true`; `/healthz` and `/readyz` stay open for probes. The
services run in this process, configured from the environment exactly as deployed
(`DUBAN_API_TOKENS`, `DUBAN_API_TOKENS_FILE`), over real NATS and SQLite, with generated tokens.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest

from duban.isolated import free_port
from duban_alerts.app import create_app as create_alerts
from duban_alerts.config import AlertsSettings
from duban_contracts.topology import Topology
from duban_ingest.app import create_app as create_ingest
from duban_ingest.config import IngestSettings
from duban_kit.service import ServiceRuntime
from duban_kit.settings import ServiceSettings
from duban_kit.tokens import Role, generate_token
from duban_reports.app import create_app as create_reports
from duban_reports.config import ReportsSettings
from duban_tasks.app import create_app as create_tasks
from duban_tasks.config import TasksSettings
from tests.support.bus import running

# Four services start in this process; on a loaded 2-core machine that alone has taken over a minute.
pytestmark = pytest.mark.timeout(300)

TOKENS = {role.value: generate_token() for role in Role}
#: Who holds each token (the integration's is named by its id).
NAMES = {"admin": "局办-王", "operator": "duty-officer", "integration": "bz-ez-campus", "reader": "grafana"}
UNKNOWN_TOKEN = generate_token()

FACTORIES: dict[str, tuple[type[ServiceSettings], Callable[[Any], ServiceRuntime]]] = {
    "ingest": (IngestSettings, create_ingest),
    "tasks": (TasksSettings, create_tasks),
    "alerts": (AlertsSettings, create_alerts),
    "reports": (ReportsSettings, create_reports),
}
NO_SCHEDULED_REPORTS = {f"DUBAN_REPORTS_SCHEDULE_{k}": "" for k in ("WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL")}


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    path: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.service}{self.path}"


@dataclass(frozen=True)
class Guarded:
    """A state-changing call, the roles that may make it, and what it answers when allowed."""

    call: Call
    allowed: tuple[str, ...]
    refused: tuple[str, ...]
    answer: int


STATE_CHANGING = [
    Guarded(
        Call(
            "ingest",
            "POST",
            "/submissions",
            {"kind": "activity", "source": "办公室", "activity": "意识形态分析研判专题会", "date": "2023-03-28"},
        ),
        allowed=("integration", "operator", "admin"),
        refused=("reader",),
        answer=202,
    ),
    Guarded(
        Call("alerts", "POST", "/api/alerts/no-such-alert/ack", {"comment": "已派人处理"}),
        allowed=("operator", "admin"),
        refused=("integration", "reader"),
        answer=400,  # the handler's own answer: there is no such alert
    ),
    Guarded(
        Call("alerts", "POST", "/api/silences", {"matchers": ['rule="class_size"'], "duration_hours": 1}),
        allowed=("operator", "admin"),
        refused=("integration", "reader"),
        answer=200,
    ),
    Guarded(
        Call("reports", "POST", "/api/reports", {"period": "2023-05", "formats": ["md"]}),
        allowed=("operator", "admin"),
        refused=("integration", "reader"),
        answer=202,
    ),
]
READ_ONLY = [
    Call("tasks", "GET", "/api/status"),
    Call("tasks", "GET", "/api/plan"),
    Call("alerts", "GET", "/api/alerts"),
    Call("reports", "GET", "/api/aggregates/summary"),
    Call("reports", "GET", "/api/reports"),
]
METRICS = [Call(service, "GET", "/metrics") for service in FACTORIES]
HEALTH = [Call(service, "GET", path) for service in FACTORIES for path in ("/healthz", "/readyz")]


class Api:
    def __init__(self, http: httpx.AsyncClient, ports: dict[str, int]) -> None:
        self.http = http
        self.ports = ports

    async def status(self, call: Call, token: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.request(
            call.method, f"http://127.0.0.1:{self.ports[call.service]}{call.path}", json=call.body, headers=headers
        )
        return response.status_code


@contextlib.asynccontextmanager
async def serving(nats_url: str, namespace: str, home: Path, settings_env: dict[str, str]) -> AsyncIterator[Api]:
    """The four services in this process, with HTTP on free ports, configured from the environment."""
    ports = {name: free_port() for name in FACTORIES}
    env = {
        "DUBAN_NATS_URL": nats_url,
        "DUBAN_NAMESPACE": namespace,
        "DUBAN_HOME": str(home),
        "DUBAN_DATABASE_URL": f"sqlite:///{home}/{{service}}.db",
        **{f"DUBAN_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()},
        **NO_SCHEDULED_REPORTS,
        **settings_env,
    }
    with mock.patch.dict(os.environ, env):
        runtimes = [create(settings.from_env()) for settings, create in FACTORIES.values()]
    async with contextlib.AsyncExitStack() as stack:
        for runtime in runtimes:
            await stack.enter_async_context(running(runtime))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
        yield Api(http, ports)


def inline_tokens() -> dict[str, str]:
    return {"DUBAN_API_TOKENS": ",".join(f"{token}:{role}:{NAMES[role]}" for role, token in TOKENS.items())}


async def test_state_changing_endpoints_refuse_missing_unknown_and_wrong_role_tokens(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    expected: dict[str, dict[str, int]] = {}
    seen: dict[str, dict[str, int]] = {}
    async with serving(nats_url, namespace, tmp_path, inline_tokens()) as api:
        for case in STATE_CHANGING:
            name = str(case.call)
            expected[name] = {"no token": 401, "unknown token": 401}
            expected[name] |= dict.fromkeys(case.refused, 403)
            expected[name] |= dict.fromkeys(case.allowed, case.answer)
            seen[name] = {
                "no token": await api.status(case.call),
                "unknown token": await api.status(case.call, UNKNOWN_TOKEN),
            }
            for role in (*case.refused, *case.allowed):
                seen[name][role] = await api.status(case.call, TOKENS[role])
    assert seen == expected


async def test_read_only_endpoints_need_a_token_by_default_while_health_and_metrics_stay_open(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    async with serving(nats_url, namespace, tmp_path, inline_tokens()) as api:
        seen = {
            str(call): {
                "no token": await api.status(call),
                "unknown token": await api.status(call, UNKNOWN_TOKEN),
                **{role: await api.status(call, token) for role, token in TOKENS.items()},
            }
            for call in READ_ONLY
        }
        open_calls = {str(call): await api.status(call) for call in [*METRICS, *HEALTH]}
    every_role = dict.fromkeys(TOKENS, 200)
    assert seen == {str(call): {"no token": 401, "unknown token": 401, **every_role} for call in READ_ONLY}
    assert open_calls == {str(call): 200 for call in [*METRICS, *HEALTH]}


async def test_read_only_endpoints_are_open_only_when_configured_so(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    settings = {**inline_tokens(), "DUBAN_READ_REQUIRES_TOKEN": "false"}
    async with serving(nats_url, namespace, tmp_path, settings) as api:
        seen = {str(call): await api.status(call) for call in [*READ_ONLY, *HEALTH]}
        writes = {str(case.call): await api.status(case.call) for case in STATE_CHANGING}
    assert seen == {str(call): 200 for call in [*READ_ONLY, *HEALTH]}
    assert writes == {str(case.call): 401 for case in STATE_CHANGING}


async def test_metrics_need_a_reader_or_operator_token_when_configured_and_the_rest_stays_open(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(
        "# token role name\n" + "".join(f"{token} {role} {NAMES[role]}\n" for role, token in TOKENS.items()),
        encoding="utf-8",
    )
    settings = {
        "DUBAN_API_TOKENS_FILE": str(tokens_file),
        "DUBAN_METRICS_REQUIRES_TOKEN": "true",
    }
    async with serving(nats_url, namespace, tmp_path, settings) as api:
        seen = {
            str(call): {
                "no token": await api.status(call),
                "unknown token": await api.status(call, UNKNOWN_TOKEN),
                **{role: await api.status(call, token) for role, token in TOKENS.items()},
            }
            for call in METRICS
        }
        open_calls = {str(call): await api.status(call) for call in HEALTH}
        reads = {str(call): await api.status(call, TOKENS["reader"]) for call in READ_ONLY}
    expected = {"no token": 401, "unknown token": 401, "admin": 200, "operator": 200, "integration": 403, "reader": 200}
    assert seen == {str(call): expected for call in METRICS}
    assert open_calls == {str(call): 200 for call in HEALTH}
    assert reads == {str(call): 200 for call in READ_ONLY}
