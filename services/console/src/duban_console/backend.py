"""The console's only way to the data: the services' request/reply verbs over NATS (and ingest's upload).

Every method is one request to one service. A service that does not answer in time, or answers
with a failure, raises `Unavailable` or `Refused`, which the pages show as such.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import BaseModel

from duban_contracts.rpc import (
    AggregateQuery,
    AlertCommand,
    AlertsQuery,
    ConsoleCommand,
    ConsoleQuery,
    ReportFileRequest,
    ReportFormat,
    ReportRequest,
    StatusQuery,
)
from duban_contracts.subjects import Subjects


class Unavailable(RuntimeError):
    """A service did not answer (stopped, starting, or too slow)."""

    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"{service}: {why}")
        self.service = service


class Refused(RuntimeError):
    """A service answered with a failure (unknown id, bad request)."""

    def __init__(self, service: str, code: str, message: str) -> None:
        super().__init__(f"{service}: {code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Upload:
    status: int
    body: dict[str, Any]


class Backend:
    def __init__(self, nc: Client, subjects: Subjects, *, timeout: float, ingest_url: str) -> None:
        self.nc = nc
        self.subjects = subjects
        self.timeout = timeout
        self.ingest_url = ingest_url.rstrip("/")

    async def ask(self, service: str, verb: str, body: BaseModel | dict[str, Any]) -> Any:
        payload = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, ensure_ascii=False)
        try:
            reply = await self.nc.request(self.subjects.rpc(service, verb), payload.encode(), timeout=self.timeout)
        except NoRespondersError:
            raise Unavailable(service, "no responders") from None
        except NatsTimeout:
            raise Unavailable(service, f"no answer within {self.timeout:g}s") from None
        data = json.loads(reply.data)
        if isinstance(data, dict) and set(data) == {"error", "message"}:
            raise Refused(service, str(data["error"]), str(data["message"]))
        return data

    # --- the plan (tasks, reports) ---------------------------------------------------------

    async def status(self, level: str = "plan", ref: str | None = None) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask("tasks", "query", StatusQuery(level=level, ref=ref))
        return reply

    async def target_history(self, target_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask(
            "tasks", "console", ConsoleQuery(what="target_history", ref=target_id, limit=200)
        )
        return reply

    async def status_history(self, level: str, ref: str) -> list[dict[str, Any]]:
        reply = await self.ask("reports", "console", ConsoleQuery(what="status_history", level=level, ref=ref))
        return list(reply["points"])

    async def units(self) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask("reports", "console", ConsoleQuery(what="units"))
        return reply

    async def summary(self) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask("reports", "query", AggregateQuery(name="summary"))
        return reply

    # --- alerts ------------------------------------------------------------------------------

    async def alerts(self, state: str = "open", rule: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        query = AlertsQuery(state=state, rule=rule or None, limit=limit)
        reply = await self.ask("alerts", "query", query)
        return list(reply["alerts"])

    async def alert(self, alert_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask("alerts", "console", ConsoleQuery(what="alert", ref=alert_id))
        return reply

    async def acknowledge(self, alert_id: str, actor: str, comment: str | None) -> dict[str, Any]:
        command = AlertCommand(action="ack", alert_id=alert_id, actor=actor, comment=comment)
        reply: dict[str, Any] = await self.ask("alerts", "command", command)
        return reply

    async def resolve(self, alert_id: str, actor: str, comment: str | None) -> dict[str, Any]:
        command = ConsoleCommand(action="resolve", ref=alert_id, actor=actor, comment=comment)
        reply: dict[str, Any] = await self.ask("alerts", "console", command)
        return reply

    async def silence(self, matchers: list[str], hours: float, actor: str, comment: str | None) -> dict[str, Any]:
        command = AlertCommand(action="silence", matchers=matchers, duration_hours=hours, actor=actor, comment=comment)
        reply: dict[str, Any] = await self.ask("alerts", "command", command)
        return reply

    async def silences(self) -> list[dict[str, Any]]:
        reply = await self.ask("alerts", "command", AlertCommand(action="list_silences"))
        return list(reply.get("data", {}).get("silences", []))

    # --- submissions (ingest) ----------------------------------------------------------------

    async def rejected(self, limit: int = 500) -> list[dict[str, Any]]:
        reply = await self.ask("ingest", "query", {"what": "rejected", "limit": limit})
        return list(reply["rejected"])

    async def submission(self, submission_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask("ingest", "console", ConsoleQuery(what="submission", ref=submission_id))
        return reply

    async def file_rows(self, file_id: str) -> list[dict[str, Any]]:
        reply = await self.ask("ingest", "console", ConsoleQuery(what="file", ref=file_id, limit=5000))
        return list(reply["rows"])

    async def resubmit(self, submission_id: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        command = ConsoleCommand(action="resubmit", ref=submission_id, actor=actor, fields=fields)
        reply: dict[str, Any] = await self.ask("ingest", "console", command)
        return reply

    async def upload(self, token: str, filename: str, data: bytes, form: dict[str, str]) -> Upload:
        """Forward a spreadsheet to ingest's `POST /submissions` as the signed-in person."""
        try:
            async with httpx.AsyncClient(timeout=max(self.timeout, 30.0)) as client:
                response = await client.post(
                    f"{self.ingest_url}/submissions",
                    headers={"Authorization": f"Bearer {token}"},
                    files={"file": (filename, data)},
                    data={k: v for k, v in form.items() if v},
                )
        except httpx.HTTPError as error:
            raise Unavailable("ingest", f"upload failed: {error!r}") from None
        try:
            body = response.json()
        except ValueError:
            body = {"error": "bad_reply", "message": response.text[:500]}
        return Upload(status=response.status_code, body=body if isinstance(body, dict) else {"reply": body})

    # --- reports -------------------------------------------------------------------------------

    async def reports(self) -> list[dict[str, Any]]:
        reply = await self.ask("reports", "query", AggregateQuery(name="reports"))
        return list(reply["reports"])

    async def generate(self, period: str, formats: list[ReportFormat]) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ask("reports", "generate", ReportRequest(period=period, formats=formats))
        return reply

    async def report_file(self, report_id: str, fmt: ReportFormat) -> tuple[dict[str, Any], AsyncIterator[bytes]]:
        """The file's first slice's description and an iterator over all its bytes, slice by slice."""
        first = await self.ask("reports", "file", ReportFileRequest(report_id=report_id, format=fmt))

        async def chunks() -> AsyncIterator[bytes]:
            chunk = first
            while True:
                data = base64.b64decode(chunk["data"])
                yield data
                offset = chunk["offset"] + len(data)
                if not data or offset >= chunk["total"]:
                    return
                chunk = await self.ask(
                    "reports", "file", ReportFileRequest(report_id=report_id, format=fmt, offset=offset)
                )

        return first, chunks()
