"""What rows the reports service keeps for each batch of events: its use cases on an in-memory store.

No database here: `InMemoryFactStore` stands in for `SqlFactStore` (held to it by
`test_fact_store_contract.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from duban_contracts.events import (
    AlertRaised,
    AlertState,
    AlertUpdated,
    MeasurementRecorded,
    ProgressMode,
    ProgressRecorded,
    Severity,
    SubmissionRejected,
    UnitRef,
)
from duban_reports.usecases.facts import (
    keep_alerts,
    keep_measurements,
    keep_progress,
    keep_rejections,
)

from .fake_fact_store import DuplicateKey, InMemoryFactStore

AT = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)
SCHOOL = UnitRef(id="bz-ez", name="巴中市第二中学", township="江北街道")


def progress(event_id: str, submission_id: str | None, value: float = 120.0, minutes: int = 0) -> ProgressRecorded:
    at = AT + timedelta(minutes=minutes)
    return ProgressRecorded(
        event_id=event_id,
        submission_id=submission_id,
        occurred_at=at,
        recorded_at=at + timedelta(seconds=5),
        source=SCHOOL.id,
        unit=SCHOOL,
        target_id="t-7-1",
        value=value,
        measure_unit="平方米",
        mode=ProgressMode.INCREMENT,
    )


def rejection(event_id: str, submission_id: str | None, code: str = "unknown_target") -> SubmissionRejected:
    return SubmissionRejected(
        event_id=event_id,
        submission_id=submission_id,
        occurred_at=AT,
        recorded_at=AT,
        source="ingest",
        kind="progress",
        code=code,
        message_zh="找不到指标",
        message_en="unknown target",
        unit_id=SCHOOL.id,
    )


async def test_progress_keeps_one_fact_per_event_and_an_accepted_submission() -> None:
    store = InMemoryFactStore()
    await keep_progress(store, [progress("e-1", "s-1", 120.0), progress("e-2", None, 30.0)])

    facts = store.rows("progress_facts")
    assert [(f["event_id"], f["target_id"], f["value"], f["mode"], f["township"]) for f in facts] == [
        ("e-1", "t-7-1", 120.0, "increment", "江北街道"),
        ("e-2", "t-7-1", 30.0, "increment", "江北街道"),
    ]
    submissions = store.tables["submission_facts"]
    assert set(submissions) == {"s-1", "e-2"}  # without a submission id, the event stands for its submission
    assert submissions["s-1"]["status"] == "accepted"
    assert submissions["s-1"]["unit_name"] == "巴中市第二中学"
    assert submissions["s-1"]["received_at"] == AT + timedelta(seconds=5)


async def test_a_rejection_accepted_on_replay_becomes_accepted_and_loses_its_code() -> None:
    store = InMemoryFactStore()
    await keep_rejections(store, [rejection("r-1", "s-1")])
    assert store.tables["submission_facts"]["s-1"]["code"] == "unknown_target"

    await keep_progress(store, [progress("e-1", "s-1")])

    row = store.tables["submission_facts"]["s-1"]
    assert (row["status"], row["code"], row["event_id"]) == ("accepted", None, "e-1")
    assert row["unit_name"] == "巴中市第二中学"
    assert len(store.rows("submission_facts")) == 1


async def test_a_later_rejection_keeps_the_unit_it_does_not_name() -> None:
    store = InMemoryFactStore()
    await keep_progress(store, [progress("e-1", "s-1")])

    await keep_rejections(store, [rejection("r-1", "s-1", code="duplicate")])

    row = store.tables["submission_facts"]["s-1"]
    assert (row["status"], row["code"]) == ("rejected", "duplicate")
    assert (row["unit_name"], row["township"]) == ("巴中市第二中学", "江北街道")  # empty columns do not overwrite


async def test_a_new_submission_twice_in_a_batch_is_stored_once_as_its_last_verdict() -> None:
    store = InMemoryFactStore()
    await keep_rejections(store, [rejection("r-1", "s-1", code="first"), rejection("r-2", "s-1", code="second")])

    assert [(r["submission_id"], r["event_id"], r["code"]) for r in store.rows("submission_facts")] == [
        ("s-1", "r-2", "second")
    ]


async def test_a_measurement_keeps_only_that_it_was_submitted() -> None:
    store = InMemoryFactStore()
    measured = MeasurementRecorded(
        event_id="m-1",
        submission_id="s-9",
        occurred_at=AT,
        recorded_at=AT,
        source=SCHOOL.id,
        unit=SCHOOL,
        metric="class_size",
        metric_zh="班额",
        value=48,
        measure_unit="人",
    )
    await keep_measurements(store, [measured])

    assert [(r["submission_id"], r["kind"], r["status"]) for r in store.rows("submission_facts")] == [
        ("s-9", "measurement", "accepted")
    ]
    assert store.rows("progress_facts") == []


async def test_the_same_event_kept_twice_is_refused_like_the_database_would() -> None:
    """Kit's inbox keeps repeats away from the use cases; the store must not hide one that got through."""
    store = InMemoryFactStore()
    await keep_progress(store, [progress("e-1", "s-1")])
    with pytest.raises(DuplicateKey):
        await keep_progress(store, [progress("e-1", "s-2")])


def alert(event_id: str, minutes: int, state: AlertState, count: int) -> AlertRaised | AlertUpdated:
    at = AT + timedelta(minutes=minutes)
    fields = {
        "event_id": event_id,
        "occurred_at": at,
        "recorded_at": at,
        "source": "alerts",
        "alert_id": "a-1",
        "fingerprint": "fp-a-1",
        "rule": "drowning",
        "severity": Severity.CRITICAL,
        "labels": {"unit": SCHOOL.id, "rule": "drowning"},
        "title_zh": "溺水事件",
        "summary_zh": f"第{count}次",
        "count": count,
        "first_seen": AT,
        "last_seen": at,
        "escalation_level": 0,
    }
    if state is AlertState.FIRING:
        return AlertRaised.model_validate({**fields, "state": state})
    return AlertUpdated.model_validate({**fields, "state": state})


async def test_alert_facts_open_on_the_first_event_and_keep_the_newest_state() -> None:
    store = InMemoryFactStore()
    await keep_alerts(store, [alert("e-1", 0, AlertState.FIRING, 1), alert("e-2", 10, AlertState.FIRING, 3)])
    await keep_alerts(store, [alert("e-3", 5, AlertState.ACKNOWLEDGED, 2)])  # older, arriving late

    [row] = store.rows("alert_facts")
    assert (row["state"], row["count"], row["last_event_at"]) == ("firing", 3, AT + timedelta(minutes=10))
    assert row["opened_at"] == AT
    assert row["acknowledged_at"] == AT + timedelta(minutes=5)  # the late update still records when
    assert row["unit_id"] == SCHOOL.id
