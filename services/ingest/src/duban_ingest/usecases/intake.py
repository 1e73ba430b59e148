"""Use cases of ingest: take inbound submissions in, turn each into a canonical event or a rejection.

A submission is processed once: its id (the integration's `Nats-Msg-Id`) is the primary key of the
`submissions` table, written in the same transaction as the outbox rows of its events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import Event, Provenance
from duban_contracts.plan import Plan
from duban_contracts.subjects import Subjects
from duban_contracts.timezone import SHANGHAI
from duban_kit.db import Database
from duban_kit.messaging import Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import Apply, UnitOfWork, Units

from ..adapters.submission_store import SqlSubmissionStore, SubmissionStore
from ..adapters.translate import applicable_event, rejected_event
from ..domain.dates import Moment, parse_moment
from ..domain.integrations import IntegrationRegistry
from ..domain.normalise import (
    Limits,
    NormalisationContext,
    Normalised,
    Problem,
    Rejection,
    content_fingerprint,
    normalise,
)
from ..domain.privacy import KEYLESS, PersonalDataMask, masked_echo
from ..domain.registry import UnitRegistry

MAX_ROWS_LISTED = 10_000
SUBMITTED_AT_KEYS = ("submitted_at", "填报时间", "填报日期", "提交时间")


@dataclass(frozen=True)
class Inbound:
    """An inbound submission as it came off the stream."""

    submission_id: str | None
    sequence: int | None
    body: object
    received_at: datetime
    file_id: str | None = None
    row: int | None = None
    #: Who it speaks as (from its subject `<ns>.in.submission.<integration>`); None on the shared subject.
    integration: str | None = None


class Judged(NamedTuple):
    """A submission's verdict before duplicates are looked for, and the fingerprint of its content."""

    verdict: Normalised | Rejection
    received: datetime
    content_hash: str | None  # None when rejected already


@dataclass(frozen=True)
class Outcome:
    submission_id: str
    accepted: bool
    code: str | None = None


def _problem(code: str, field: str | None, value: str | None, zh: str, en: str) -> Problem:
    return Problem(code=code, field=field, value=value, message_zh=zh, message_en=en)


def _framing_problem(code: str, field: str | None, value: object, zh: str, en: str) -> Rejection:
    """A submission refused before its content is read (no id, not JSON, not an object); the value it
    quotes back is masked of personal data and cut short, as every rejection's is."""
    return Rejection(problems=(_problem(code, field, masked_echo(value), zh, en),), kind=None, unit_id=None)


#: The key of ingest's one consumer in its table: the inbound submissions (not an event type).
SUBMISSIONS = "submission"


class Intake:
    def __init__(
        self,
        *,
        plan: Plan,
        registry: UnitRegistry,
        db: Database,
        outbox: Outbox,
        subjects: Subjects,
        metrics: ServiceMetrics,
        rejected_counter: Any,
        limits: Limits | None = None,
        integrations: IntegrationRegistry | None = None,
        mask: PersonalDataMask = KEYLESS,
        store_for: Callable[[AsyncConnection], SubmissionStore] = SqlSubmissionStore,
    ) -> None:
        self.plan = plan
        #: The store of a unit of work's connection (the database's; in unit tests, one in memory).
        self.store_for = store_for
        self.registry = registry
        self.integrations = integrations
        self.db = db
        self.outbox = outbox
        self.subjects = subjects
        self.metrics = metrics
        self.rejected_counter = rejected_counter
        self.limits = limits or Limits()
        # Ingest's inbox is its submissions table: a repeated submission id is recognised by `take_in`.
        self.units = Units(
            "ingest", self.consumes(), db=db, inbox=None, outbox=outbox, subjects=subjects, metrics=metrics
        )
        self._context_template = NormalisationContext(
            plan=plan, registry=registry, received_at=datetime.now(UTC), limits=self.limits, mask=mask
        )

    def _context(self, received_at: datetime) -> NormalisationContext:
        return self._context_template.received(received_at)

    def consumes(self) -> dict[str, Apply]:
        return {SUBMISSIONS: self.submissions_received}

    async def submissions_received(self, uow: UnitOfWork, batch: Sequence[Inbound]) -> None:
        """Kit's unit of work calls this with each fetched batch of inbound submissions."""
        await self.take_in(uow, batch)

    async def take(self, batch: Sequence[Inbound]) -> list[Outcome]:
        """A batch in its own unit of work, with what became of each submission (tests, benchmarks)."""
        async with self.units.transaction() as uow:
            return await self.take_in(uow, batch)

    async def take_in(self, uow: UnitOfWork, batch: Sequence[Inbound]) -> list[Outcome]:
        """Judge a batch in `uow`, with a bounded number of statements whatever its size.

        One lookup of the ids already processed (a redelivery or a re-sent id: ingest's inbox is its
        submissions table), one statement taking the units' locks, one lookup of the contents already
        accepted, one insert of the submissions; the events go to the outbox with the unit of work.
        """
        store = self.store_for(uow.conn)
        outcomes: dict[int, Outcome] = {}
        ids = [i.submission_id or f"seq-{i.sequence}" for i in batch]
        known = await store.statuses(ids)
        seen_content: dict[tuple[str, str], str] = {}
        rows: list[dict[str, Any]] = []
        verdicts: list[tuple[int, Inbound, str, Judged]] = []
        for index, (inbound, submission_id) in enumerate(zip(batch, ids, strict=True)):
            if submission_id in known:  # a redelivery or a re-sent id: processed already
                outcomes[index] = Outcome(submission_id, known[submission_id] == "accepted")
                continue
            known[submission_id] = "pending"
            verdicts.append((index, inbound, submission_id, self._judged(inbound)))
        judged = [j for *_, j in verdicts]
        await self._lock_units(store, judged)
        accepted = await self._accepted_content(store, judged)
        for index, inbound, submission_id, j in verdicts:
            row, event = self._judge(inbound, submission_id, j, accepted, seen_content)
            if row["status"] == "accepted":
                uow.saw(event.occurred_at)
            rows.append(row)
            uow.publish((event,))
            known[submission_id] = row["status"]
            outcomes[index] = Outcome(submission_id, row["status"] == "accepted", row["code"])
        if rows:
            await store.add(rows)
            codes = [outcome.code for outcome in outcomes.values() if outcome.code]
            uow.after_commit(lambda: self._count_rejections(codes))
        return [outcomes[i] for i in range(len(batch))]

    def _count_rejections(self, codes: list[str]) -> None:
        for code in codes:
            self.rejected_counter.labels(code=code).inc()

    def _judged(self, inbound: Inbound) -> Judged:
        verdict, received = self._normalise(inbound)
        if self.integrations is not None:  # may this integration speak for the unit?
            verdict = self.integrations.judge(inbound.integration, verdict)
        digest = None if isinstance(verdict, Rejection) else content_fingerprint(verdict)
        return Judged(verdict, received, digest)

    @staticmethod
    async def _lock_units(store: SubmissionStore, judged: Sequence[Judged]) -> None:
        """Replicas take turns per unit, so that two copies of one content are never both accepted.

        Units are locked in one order (sorted by unit id) in every transaction, so two replicas cannot
        deadlock.
        """
        units = sorted({j.verdict.unit.id for j in judged if not isinstance(j.verdict, Rejection)})
        await store.lock_units(units)

    @staticmethod
    async def _accepted_content(store: SubmissionStore, judged: Sequence[Judged]) -> dict[tuple[str, str], str]:
        """The accepted submission already stored for each (unit, content fingerprint) in `judged`."""
        return await store.accepted_with(
            {
                (j.verdict.unit.id, j.content_hash)
                for j in judged
                if not isinstance(j.verdict, Rejection) and j.content_hash
            },
        )

    def _judge(
        self,
        inbound: Inbound,
        submission_id: str,
        judged: Judged,
        accepted: dict[tuple[str, str], str],
        seen_content: dict[tuple[str, str], str],
    ) -> tuple[dict[str, Any], Event]:
        """The row and event of one submission: `accepted` is what `_accepted_content` found stored,
        `seen_content` what this batch accepted before it (and is added to)."""
        verdict, received, content_hash = judged
        provenance = Provenance(file_id=inbound.file_id, row=inbound.row)
        result = verdict
        applicable: Event | Problem | None = None
        if not isinstance(result, Rejection):  # accepted only if the consumers can apply its event
            applicable = applicable_event(result, submission_id, received, provenance)
            if isinstance(applicable, Problem):
                result = Rejection(problems=(applicable,), kind=_kind_of(result), unit_id=result.unit.id)
        if not isinstance(result, Rejection):
            assert content_hash is not None
            key = (result.unit.id, content_hash)
            first = seen_content.get(key) or accepted.get(key)
            if first is not None:
                result = Rejection(
                    problems=(
                        _problem(
                            "duplicate_content",
                            None,
                            first,
                            f"与已接收的报送 {first} 内容完全相同，按重复报送处理",
                            f"same content from the same unit as accepted submission {first}; treated as a duplicate",
                        ),
                    ),
                    kind=_kind_of(result),
                    unit_id=result.unit.id,
                )
            else:
                seen_content[(result.unit.id, content_hash)] = submission_id
        row = {
            "submission_id": submission_id,
            "inbound_sequence": inbound.sequence,
            "received_at": received,
            "file_id": inbound.file_id,
            "row": inbound.row,
            "content_hash": None,
        }
        if isinstance(result, Rejection):
            event: Event = rejected_event(
                result,
                submission_id,
                attempt="first",
                received_at=received,
                recorded_at=received,
                sequence=inbound.sequence,
                provenance=provenance,
            )
            row |= {
                "status": "rejected",
                "kind": result.kind,
                "unit_id": result.unit_id,
                "code": result.problems[0].code,
                "reasons": json.dumps([p.__dict__ for p in result.problems], ensure_ascii=False, default=list),
                "event_id": event.event_id,
            }
            return row, event
        assert isinstance(applicable, Event)
        event = applicable
        row |= {
            "status": "accepted",
            "kind": _kind_of(result),
            "unit_id": result.unit.id,
            "content_hash": content_hash,
            "code": None,
            "reasons": None,
            "event_id": event.event_id,
        }
        return row, event

    def _normalise(self, inbound: Inbound) -> tuple[Normalised | Rejection, datetime]:
        """The verdict, and when the submission counts as received (填报时间 or its arrival)."""
        arrived = inbound.received_at
        if inbound.submission_id is None:
            return _framing_problem(
                "missing_submission_id",
                "Nats-Msg-Id",
                None,
                "缺少报送编号：请在消息头 Nats-Msg-Id 中提供唯一编号",
                "missing submission id: send a unique id in the Nats-Msg-Id header",
            ), arrived
        body = inbound.body
        if isinstance(body, Problem):  # refused as it was read (`payload.read_json`: too large, too deep, not JSON)
            return Rejection(problems=(body,), kind=None, unit_id=None), arrived
        if isinstance(body, bytes | bytearray):
            preview = bytes(body[:2000]).decode("utf-8", "replace")
            return _framing_problem(
                "invalid_json", None, preview, "报送内容不是有效的 JSON", "the submission is not valid JSON"
            ), arrived
        if not isinstance(body, dict):
            return _framing_problem(
                "not_an_object",
                None,
                body,
                "报送内容必须是 JSON 对象（键值对）",
                f"the submission must be a JSON object, not {type(body).__name__}",
            ), arrived
        fields = dict(body)
        submitted = self._submitted_at(fields, arrived)
        if isinstance(submitted, Rejection):
            return submitted, arrived
        return normalise(fields, self._context(submitted)), submitted

    def _submitted_at(self, body: dict[str, object], arrived: datetime) -> datetime | Rejection:
        """When the unit says it submitted (填报时间), else when it arrived; never after its arrival."""
        for key in SUBMITTED_AT_KEYS:
            value = body.pop(key, None)
            if value is None or value == "":
                continue
            moment = parse_moment(value, self.plan.year, SHANGHAI) if isinstance(value, str) else None
            if isinstance(moment, Moment) and moment.at <= arrived:
                return moment.at
            return _framing_problem(
                "invalid_date",
                key,
                value,
                "填报时间无法识别，或晚于报送到达时间",
                "the submission time is unreadable or later than its arrival",
            )
        return arrived

    # --- queries and corrections -------------------------------------------------------------

    async def rejected(self, limit: int = 500) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await self.store_for(conn).rejected(min(limit, MAX_ROWS_LISTED))
        return [
            {**r, "received_at": r["received_at"].isoformat(), "reasons": json.loads(r["reasons"] or "[]")}
            for r in rows
        ]

    async def sequence_of(self, submission_id: str) -> tuple[str, int | None] | None:
        async with self.db.read() as conn:
            return await self.store_for(conn).status_and_sequence(submission_id)

    async def retake(self, inbound: Inbound, attempt: str) -> Outcome:
        """Re-run a rejected submission (after the registry or plan was corrected), in its own unit of work."""
        recorded_at = datetime.now(UTC)
        async with self.units.transaction() as uow:
            return await self.retake_in(uow, inbound, attempt, recorded_at)

    async def retake_in(self, uow: UnitOfWork, inbound: Inbound, attempt: str, recorded_at: datetime) -> Outcome:
        """Judge a stored submission again in `uow`; an accepted one stays as it is."""
        assert inbound.submission_id is not None
        store = self.store_for(uow.conn)
        if await store.status(inbound.submission_id) == "accepted":
            return Outcome(inbound.submission_id, True)
        judged = self._judged(inbound)
        await self._lock_units(store, [judged])
        accepted = await self._accepted_content(store, [judged])
        row, event = self._judge(inbound, inbound.submission_id, judged, accepted, {})
        if row["status"] == "accepted":
            uow.saw(event.occurred_at)
        if row["status"] == "rejected":
            event = rejected_event(
                Rejection(problems=tuple(_problems_from_row(row)), kind=row["kind"], unit_id=row["unit_id"]),
                inbound.submission_id,
                attempt=attempt,
                received_at=inbound.received_at,
                recorded_at=recorded_at,
                sequence=inbound.sequence,
                provenance=Provenance(file_id=inbound.file_id, row=inbound.row),
            )
            row["event_id"] = event.event_id
        await store.overwrite(inbound.submission_id, {k: v for k, v in row.items() if k != "submission_id"})
        uow.publish((event,))
        return Outcome(inbound.submission_id, row["status"] == "accepted", row.get("code"))


def _problems_from_row(row: dict[str, Any]) -> list[Problem]:
    return [
        Problem(
            code=p["code"],
            field=p.get("field"),
            value=p.get("value"),
            message_zh=p["message_zh"],
            message_en=p["message_en"],
            candidates=tuple(p.get("candidates") or ()),
        )
        for p in json.loads(row["reasons"] or "[]")
    ]


def _kind_of(item: Normalised) -> str:
    return type(item).__name__.lower()
