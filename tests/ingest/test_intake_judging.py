"""What ingest's intake decides for a batch of submissions: its use case on an in-memory store.

No database here: `InMemorySubmissionStore` stands in for `SqlSubmissionStore` (held to it by
`test_submission_store_contract.py`), and each batch gets a unit of work with no connection behind it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import cast

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import ProgressRecorded, SubmissionRejected
from duban_contracts.plan import load_plan
from duban_contracts.subjects import Subjects
from duban_ingest.adapters import tables
from duban_ingest.domain.registry import UnitRegistry
from duban_ingest.usecases.intake import Inbound, Intake
from duban_kit.db import Database
from duban_kit.messaging import Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import UnitOfWork

from .fake_submission_store import InMemorySubmissionStore

ARRIVED = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
SCHOOLS = ("巴中市第二中学", "巴州区第七小学")
PLAN = load_plan()
REGISTRY = UnitRegistry.load()


def progress(school: str, value: float, date: str = "2023-06-05") -> dict[str, object]:
    return {"kind": "progress", "source": school, "indicator": "新建中小学校舍", "value": value, "date": date}


def inbound(submission_id: str | None, body: object, sequence: int = 1) -> Inbound:
    return Inbound(submission_id, sequence, body, ARRIVED)


def intake_on(store: InMemorySubmissionStore) -> Intake:
    return Intake(
        plan=PLAN,
        registry=REGISTRY,
        db=cast(Database, None),  # never opened: each test brings its own unit of work
        outbox=Outbox(tables.outbox),
        subjects=Subjects("unit"),
        metrics=ServiceMetrics("ingest", registry=CollectorRegistry()),
        rejected_counter=Counter("rejected", "", ["code"], registry=CollectorRegistry()),
        store_for=lambda conn: store,
    )


def a_unit_of_work() -> UnitOfWork:
    """Kit's unit of work with no connection: the store is in memory, the staged events are inspected."""
    return UnitOfWork(cast(AsyncConnection, None), is_sqlite=False)


async def test_the_same_content_from_one_unit_is_a_duplicate_naming_the_first_accepted() -> None:
    store = InMemorySubmissionStore()
    intake = intake_on(store)
    first = await intake.take_in(
        a_unit_of_work(),
        [
            inbound("a-1", progress(SCHOOLS[0], 100)),
            inbound("a-2", progress(SCHOOLS[0], 100)),  # the same content as a-1, in the same batch
            inbound("a-3", progress(SCHOOLS[1], 100)),  # the same figures from another unit: not a duplicate
        ],
    )
    later = await intake.take_in(a_unit_of_work(), [inbound("b-1", progress(SCHOOLS[1], 100))])  # a-3 again

    assert [(o.submission_id, o.accepted, o.code) for o in [*first, *later]] == [
        ("a-1", True, None),
        ("a-2", False, "duplicate_content"),
        ("a-3", True, None),
        ("b-1", False, "duplicate_content"),
    ]
    assert json.loads(store.rows["a-2"]["reasons"])[0]["value"] == "a-1"
    assert json.loads(store.rows["b-1"]["reasons"])[0]["value"] == "a-3"
    assert store.rows["a-2"]["content_hash"] is None and store.rows["a-1"]["content_hash"]


async def test_every_judged_submission_stages_one_event_and_accepted_ones_count_their_time() -> None:
    intake = intake_on(InMemorySubmissionStore())
    uow = a_unit_of_work()
    await intake.take_in(uow, [inbound("r-1", progress(SCHOOLS[0], 10)), inbound("r-2", progress(SCHOOLS[0], -3))])

    accepted, rejected = uow.staged
    assert isinstance(accepted, ProgressRecorded) and accepted.submission_id == "r-1"
    assert isinstance(rejected, SubmissionRejected) and rejected.code == "negative_value"
    assert uow.latest == accepted.occurred_at  # the rejection's time is not an event time the service saw


async def test_a_redelivered_batch_is_answered_from_the_store_and_stages_nothing() -> None:
    store = InMemorySubmissionStore()
    intake = intake_on(store)
    batch = [inbound("r-1", progress(SCHOOLS[0], 10)), inbound(None, progress(SCHOOLS[1], 10), sequence=7)]
    await intake.take_in(a_unit_of_work(), batch)

    again = a_unit_of_work()
    outcomes = await intake.take_in(again, batch)

    assert [(o.submission_id, o.accepted, o.code) for o in outcomes] == [("r-1", True, None), ("seq-7", False, None)]
    assert again.staged == []
    assert list(store.rows) == ["r-1", "seq-7"]


async def test_the_units_of_accepted_submissions_take_turns_in_one_order() -> None:
    store = InMemorySubmissionStore()
    await intake_on(store).take_in(
        a_unit_of_work(),
        [inbound("u-1", progress(SCHOOLS[1], 1)), inbound("u-2", progress(SCHOOLS[0], 2)), inbound("u-3", [1])],
    )

    [locked] = store.locked
    assert locked == sorted(locked) and len(locked) == 2  # the rejected one (not an object) takes no turn
