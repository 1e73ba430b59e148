"""`ingest.console`: what the clerk's pages ask of ingest beyond `ingest.query`.

- `submission`: one submission's outcome, its reasons and the raw fields it was sent with (read back
  from the inbound stream, where raw submissions stay for correction; ingest's tables never copy them);
- `file`: every row of an uploaded file and its outcome, for the row-by-row result of an upload;
- `resubmit`: a corrected submission. The corrected fields are published to the inbound stream (so
  the raw form of what was finally accepted is kept like any other) and judged at once under the
  rejected submission's id, as `ingest replay` does, so it leaves the list of 退回 when accepted.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from duban_contracts.inbound import FILE_ID_HEADER, REPLAY_OF_HEADER, ROW_HEADER, SUBMISSION_ID_HEADER
from duban_contracts.rpc import CommandReply, ConsoleCommand, ConsoleQuery, Failure
from duban_kit.service import ServiceRuntime

from ..adapters import tables as t
from ..domain.payload import read_json
from ..usecases.intake import Inbound, Intake

MAX_FIELDS_BYTES = 64 * 1024


def register(runtime: ServiceRuntime, intake: Intake) -> None:
    inbound_stream = runtime.settings.topology.streams["inbound"].name

    async def raw_fields(sequence: int | None) -> tuple[dict[str, Any] | None, dict[str, str]]:
        if sequence is None:
            return None, {}
        try:
            stored = await runtime.jetstream.get_msg(inbound_stream, sequence)
        except Exception:  # aged out of the stream (90 days) or the stream is away
            return None, {}
        body = read_json(
            stored.data or b"", max_bytes=intake.limits.max_submission_bytes, max_depth=intake.limits.max_json_depth
        )
        return (body if isinstance(body, dict) else None), dict(stored.headers or {})

    @runtime.rpc("console")
    async def on_console(request: dict[str, Any]) -> dict[str, Any] | Failure | CommandReply:
        if "action" in request:
            return await resubmit(ConsoleCommand.model_validate(request))
        query = ConsoleQuery.model_validate(request)
        if query.what == "submission" and query.ref:
            row = await _submission(intake, query.ref)
            if row is None:
                return Failure(error="unknown_ref", message=f"no submission {query.ref!r}")
            fields, _ = await raw_fields(row["inbound_sequence"])
            return {"submission": row, "fields": fields}
        if query.what == "file" and query.ref:
            return {"file_id": query.ref, "rows": await _file_rows(intake, query.ref, query.limit)}
        return Failure(error="unsupported", message=f"ingest.console answers submission or file, not {query.what!r}")

    async def resubmit(command: ConsoleCommand) -> CommandReply:
        if command.action != "resubmit":
            return CommandReply(ok=False, message=f"ingest.console does not {command.action}")
        row = await _submission(intake, command.ref)
        if row is None:
            return CommandReply(ok=False, message=f"no submission {command.ref!r}")
        if row["status"] == "accepted":
            return CommandReply(ok=True, message="already accepted; nothing to correct", data={"status": "accepted"})
        payload = json.dumps(command.fields, ensure_ascii=False, default=str).encode()
        if len(payload) > MAX_FIELDS_BYTES:
            return CommandReply(ok=False, message=f"corrected submission of {len(payload)} bytes is too large")
        _, original = await raw_fields(row["inbound_sequence"])
        digest = hashlib.sha256(payload).hexdigest()[:12]
        headers = {
            SUBMISSION_ID_HEADER: f"{command.ref}~{digest}",
            REPLAY_OF_HEADER: command.ref,  # read as the rejected submission, which is known: not judged twice
            "Duban-Corrected-By": command.actor,
        }
        headers |= {k: v for k, v in original.items() if k in (FILE_ID_HEADER, ROW_HEADER)}
        ack = await runtime.jetstream.publish(runtime.settings.subjects.inbound_submission, payload, headers=headers)
        inbound = Inbound(
            submission_id=command.ref,
            sequence=ack.seq,
            body=read_json(payload, max_bytes=MAX_FIELDS_BYTES, max_depth=intake.limits.max_json_depth),
            received_at=datetime.now(UTC),
            file_id=headers.get(FILE_ID_HEADER),
            row=int(headers[ROW_HEADER]) if headers.get(ROW_HEADER, "").isdigit() else None,
        )
        outcome = await intake.retake(inbound, attempt=f"corrected-{digest}")
        after = await _submission(intake, command.ref)
        verdict = "accepted" if outcome.accepted else f"rejected again ({outcome.code})"
        return CommandReply(ok=outcome.accepted, message=f"{command.ref}: {verdict}", data={"submission": after})


async def _submission(intake: Intake, submission_id: str) -> dict[str, Any] | None:
    s = t.submissions
    query = select(
        s.c.submission_id,
        s.c.status,
        s.c.kind,
        s.c.unit_id,
        s.c.code,
        s.c.reasons,
        s.c.received_at,
        s.c.file_id,
        s.c.row,
        s.c.inbound_sequence,
    ).where(s.c.submission_id == submission_id)
    async with intake.db.read() as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else _plain(row)


async def _file_rows(intake: Intake, file_id: str, limit: int) -> list[dict[str, Any]]:
    s = t.submissions
    query = (
        select(s.c.submission_id, s.c.status, s.c.kind, s.c.unit_id, s.c.code, s.c.reasons, s.c.received_at, s.c.row)
        .where(s.c.file_id == file_id)
        .order_by(s.c.row)
        .limit(limit)
    )
    async with intake.db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [_plain(row) for row in rows]


def _plain(row: Any) -> dict[str, Any]:
    return {**dict(row), "received_at": row["received_at"].isoformat(), "reasons": json.loads(row["reasons"] or "[]")}
