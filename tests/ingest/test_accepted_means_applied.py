"""Accepted means applied: ingest accepts a submission only if its event reads back as the consumers read it.

`Intake.take` and `Intake.retake` (the replay) on SQLite and PostgreSQL, and `applicable_event` on its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select

from duban_contracts.events import EVENT_TYPES, Provenance
from duban_contracts.plan import load_plan
from duban_ingest.adapters import tables
from duban_ingest.adapters.translate import accepted_event, applicable_event
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_ingest.domain.normalise import NormalisationContext, Progress, UnitRegistry, normalise
from duban_ingest.domain.payload import read_json
from duban_ingest.domain.problems import Problem
from duban_ingest.usecases.intake import Inbound, Intake
from duban_kit.messaging import Outbox
from duban_kit.service import ServiceRuntime

ARRIVED = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
GROWTH = {"kind": "progress", "source": "巴中市第二中学", "indicator": "t05_edu_spending_no_decrease"}
ADMITS = {"kind": "measurement", "source": "巴中市第二中学", "metric": "本科上线人数增幅"}
FORTY_YI = "1" + "亿" * 40

#: (body, the one rejection code it must end in) — each of these was accepted, or dead-lettered, before.
HOSTILE: dict[str, tuple[object, str]] = {
    "forty 亿 for growth": ({**GROWTH, "value": FORTY_YI + "%", "date": "2023-06-05"}, "value_out_of_range"),
    "forty 亿 bare for growth": ({**GROWTH, "value": FORTY_YI, "date": "2023-06-05"}, "value_out_of_range"),
    "forty 亿 measured": ({**ADMITS, "value": FORTY_YI + "%", "date": "2023-06-05"}, "value_out_of_range"),
    "1e294 for growth": (
        {**GROWTH, "value": "1" + "亿" * 37 + "%", "date": "2023-06-05"},
        "value_out_of_range",
    ),
    "1亿% for growth": ({**GROWTH, "value": "1亿%", "date": "2023-06-05"}, "implausible_value"),
    "Infinity": ({**ADMITS, "value": "Infinity", "date": "2023-06-05"}, "not_finite"),
    "JSON NaN": ({**ADMITS, "value": float("nan"), "date": "2023-06-05"}, "not_finite"),
    "lone surrogate in a note": (
        {**GROWTH, "value": "5%", "date": "2023-06-05", "note": "经费\ud800"},
        "invalid_event",
    ),
    "too deep": (read_json(b'{"note": ' * 3000 + b"1" + b"}" * 3000, max_bytes=10**6, max_depth=32), "too_deep"),
}


@pytest.fixture
async def runtime(namespace: str, database_url: str, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    app = create_app(IngestSettings(namespace=namespace, database_url=database_url, home=tmp_path))
    await app.db.migrate(app.migrations)
    try:
        yield app
    finally:
        await app.db.drop_schema()
        await app.db.dispose()


def intake_of(runtime: ServiceRuntime, counter: Counter) -> Intake:
    settings = runtime.settings
    assert isinstance(settings, IngestSettings)
    return Intake(
        plan=load_plan(settings.plan_file),
        registry=UnitRegistry.load(settings.registry_file),
        db=runtime.db,
        outbox=Outbox(tables.outbox),  # no relay: the outbox rows are what would be published
        subjects=settings.subjects,
        metrics=runtime.metrics,
        rejected_counter=counter,
        limits=settings.limits(),
    )


def counter() -> Counter:
    return Counter("rejected", "", ["code"], registry=CollectorRegistry())


def counted(rejected: Counter) -> dict[str, float]:
    return {
        sample.labels["code"]: sample.value
        for metric in rejected.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


async def published(runtime: ServiceRuntime) -> list[dict[str, Any]]:
    """The outbox rows as consumers will decode them."""
    async with runtime.db.read() as conn:
        payloads = (await conn.execute(select(tables.outbox.c.payload))).scalars().all()
    return [json.loads(payload) for payload in payloads]


async def test_hostile_submissions_are_each_rejected_once_with_their_code_and_counted(
    runtime: ServiceRuntime,
) -> None:
    rejected = counter()
    intake = intake_of(runtime, rejected)
    names = list(HOSTILE)
    outcomes = await intake.take([Inbound(name, i, HOSTILE[name][0], ARRIVED) for i, name in enumerate(names)])
    assert {o.submission_id: (o.accepted, o.code) for o in outcomes} == {
        name: (False, code) for name, (_, code) in HOSTILE.items()
    }
    events = await published(runtime)
    assert sorted((e["type"], e["submission_id"], e["code"]) for e in events) == sorted(
        ("submission.rejected", name, code) for name, (_, code) in HOSTILE.items()
    )
    for event in events:  # and every one reads back as the consumers read it
        EVENT_TYPES[event["type"]].model_validate(event)
    expected: dict[str, float] = {}
    for _, code in HOSTILE.values():
        expected[code] = expected.get(code, 0) + 1
    assert counted(rejected) == expected


async def test_a_replayed_hostile_submission_is_rejected_again_never_accepted(runtime: ServiceRuntime) -> None:
    intake = intake_of(runtime, counter())
    inbound = [Inbound(name, i, body, ARRIVED) for i, (name, (body, _)) in enumerate(HOSTILE.items())]
    await intake.take(inbound)
    for item in inbound:
        outcome = await intake.retake(item, attempt=f"replay-{item.sequence}")
        assert (outcome.accepted, outcome.code) == (False, HOSTILE[item.submission_id or ""][1]), item.submission_id
    events = await published(runtime)
    assert sorted((e["type"], e["submission_id"]) for e in events) == sorted(
        ("submission.rejected", name) for name in HOSTILE for _ in ("first", "replay")
    )
    async with runtime.db.read() as conn:
        statuses = (await conn.execute(select(tables.submissions.c.status))).scalars().all()
    assert sorted(statuses) == ["rejected"] * len(HOSTILE)


async def test_a_sound_submission_is_still_accepted_by_take_and_by_retake(runtime: ServiceRuntime) -> None:
    intake = intake_of(runtime, counter())
    decline = {**GROWTH, "value": "-3%", "date": "2023-06-05"}  # a decline is a fact, not an error
    (taken,) = await intake.take([Inbound("ok-1", 1, decline, ARRIVED)])
    retaken = await intake.retake(Inbound("ok-2", 2, {**decline, "value": "8%"}, ARRIVED), attempt="replay-2")
    assert (taken.accepted, retaken.accepted) == (True, True)
    values = sorted(e["value"] for e in await published(runtime) if e["type"] == "progress.recorded")
    assert values == [-0.03, 0.08]


def sound_progress() -> Progress:
    context = NormalisationContext(plan=load_plan(), registry=UnitRegistry.load(), received_at=ARRIVED)
    item = normalise({**GROWTH, "value": "5%", "date": "2023-06-05"}, context)
    assert isinstance(item, Progress)
    return item


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"value": float("inf")}, "not_finite", "value"),
        ({"value": float("nan")}, "not_finite", "value"),
        ({"note": "\udc00"}, "invalid_event", None),
    ],
    ids=["inf", "nan", "lone surrogate"],
)
def test_an_event_the_consumers_could_not_read_back_is_refused_with_a_reason(
    change: dict[str, object], code: str, field: str | None
) -> None:
    item = replace(sound_progress(), **change)  # type: ignore[arg-type]
    problem = applicable_event(item, "s-1", ARRIVED, Provenance())
    assert isinstance(problem, Problem)
    assert (problem.code, problem.field) == (code, field)
    assert problem.message_zh and problem.message_en
    json.dumps(problem.__dict__, ensure_ascii=False).encode()  # the rejection itself can be published


def test_an_event_that_reads_back_unchanged_is_the_event_built() -> None:
    item = sound_progress()
    built = applicable_event(item, "s-1", ARRIVED, Provenance(row=3))
    assert built == accepted_event(item, "s-1", ARRIVED, Provenance(row=3))
