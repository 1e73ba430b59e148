"""Ingest's edge: the inbound submissions (kit's unit of work, `Intake.consumes`), the query/replay endpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nats.aio.msg import Msg
from pydantic import BaseModel

from duban_contracts.inbound import (
    FILE_ID_HEADER,
    REPLAY_OF_HEADER,
    ROW_HEADER,
    SUBMISSION_ID_HEADER,
    SubmissionReceived,
)
from duban_contracts.rpc import CommandReply
from duban_contracts.subjects import Subjects
from duban_kit.service import ServiceRuntime

from ..domain.normalise import Limits
from ..domain.payload import read_json
from ..usecases.intake import Inbound, Intake


class IngestQuery(BaseModel):
    what: str = "rejected"
    limit: int = 500


class ReplayRequest(BaseModel):
    submission_id: str


def inbound_from(body: object, raw: Msg, subjects: Subjects) -> Inbound:
    headers = raw.headers or {}
    row = headers.get(ROW_HEADER)
    return Inbound(
        submission_id=headers.get(REPLAY_OF_HEADER) or headers.get(SUBMISSION_ID_HEADER),
        sequence=raw.metadata.sequence.stream,
        body=body,
        received_at=raw.metadata.timestamp,
        file_id=headers.get(FILE_ID_HEADER),
        row=int(row) if row and row.isdigit() else None,
        integration=subjects.integration_of(raw.subject),  # the subject, which NATS permissions guard
    )


def inbound_decoder(limits: Limits, subjects: Subjects) -> Callable[[Msg], Inbound]:
    """An inbound message as ingest takes it: its JSON within `limits`, or the `Problem` refusing it.

    A generic JSON decoder raises on a body nested a few thousand levels deep (RecursionError) or
    with a 5,000-digit integer, and a raising decoder is retried until the message is dead-lettered;
    this one never raises, so every message ends as an event or a `submission.rejected`.
    """

    def decode(raw: Msg) -> Inbound:
        return inbound_from(_read(raw.data, limits), raw, subjects)

    return decode


def _read(data: bytes, limits: Limits) -> object:
    return read_json(data, max_bytes=limits.max_submission_bytes, max_depth=limits.max_json_depth)


def register(runtime: ServiceRuntime, intake: Intake) -> None:
    inbound_stream = runtime.settings.topology.streams["inbound"].name
    subjects = runtime.settings.subjects
    runtime.consume_inbound(intake.units, inbound_decoder(intake.limits, subjects), documented_as=SubmissionReceived)

    @runtime.rpc("query")
    async def on_query(query: IngestQuery) -> dict[str, Any]:
        return {"rejected": await intake.rejected(query.limit)}

    @runtime.rpc("replay")
    async def on_replay(request: ReplayRequest) -> CommandReply:
        found = await intake.sequence_of(request.submission_id)
        if found is None:
            return CommandReply(ok=False, message=f"no submission {request.submission_id!r}")
        status, sequence = found
        if status == "accepted":
            return CommandReply(ok=True, message="already accepted; nothing to replay")
        if sequence is None:
            return CommandReply(ok=False, message="the raw submission's position is unknown")
        try:
            stored = await runtime.jetstream.get_msg(inbound_stream, sequence)
        except Exception as error:
            return CommandReply(ok=False, message=f"raw submission no longer in the inbound stream: {error}")
        inbound = _inbound_from_stored(request.submission_id, sequence, stored, intake.limits, subjects)
        outcome = await intake.retake(inbound, attempt=f"replay-{sequence}")
        verdict = "accepted" if outcome.accepted else f"rejected again ({outcome.code})"
        return CommandReply(ok=outcome.accepted, message=f"{request.submission_id}: {verdict}")


def _inbound_from_stored(submission_id: str, sequence: int, stored: Any, limits: Limits, subjects: Subjects) -> Inbound:
    headers = stored.headers or {}
    body = _read(stored.data or b"", limits)
    row = headers.get(ROW_HEADER)
    received_at = stored.time or datetime.now(UTC)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    return Inbound(
        submission_id=submission_id,
        sequence=sequence,
        body=body,
        received_at=received_at,
        file_id=headers.get(FILE_ID_HEADER),
        row=int(row) if row and row.isdigit() else None,
        integration=subjects.integration_of(stored.subject),
    )
