"""Alert facts are written a batch at a time: one read, an in-memory fold, bulk writes.

The fold must leave exactly the rows that applying the events one at a time leaves (the way the
reports service wrote them before: a SELECT of `last_event_at`, then an INSERT or an UPDATE per
event), whatever order the events arrive in and however they are cut into batches: an older event
arriving late never overwrites newer state, but still records when the alert was acknowledged or
resolved.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import AlertEvent, AlertRaised, AlertResolved, AlertState, AlertUpdated, Severity
from duban_kit.db import Database
from duban_kit.messaging import Inbox
from duban_kit.metrics import ServiceMetrics
from duban_reports.adapters import tables as t
from duban_reports.app import MIGRATIONS
from duban_reports.usecases.facts import FactKeeper, fold_alert_events

BASE = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)
ALERT_IDS = ("a-1", "a-2", "a-3")


def an_event(n: int, kind: str, alert_id: str, minute: int, state: AlertState, count: int) -> AlertEvent:
    at = BASE + timedelta(minutes=minute)
    fields: dict[str, Any] = {
        "event_id": f"e-{n:03d}",
        "occurred_at": at,
        "recorded_at": at,
        "source": "alerts",
        "alert_id": alert_id,
        "fingerprint": f"fp-{alert_id}",
        "rule": "drowning",
        "severity": Severity.CRITICAL if count % 2 else Severity.MAJOR,
        "labels": {"unit": f"u-{count % 3}", "rule": "drowning"},
        "title_zh": f"溺水事件 {alert_id} #{count}",
        "summary_zh": f"第{count}次",
        "count": count,
        "first_seen": BASE + timedelta(minutes=minute - count),
        "last_seen": at,
        "escalation_level": count % 3,
    }
    if kind == "raised":
        return AlertRaised(**fields, state=AlertState.FIRING)
    if kind == "updated":
        return AlertUpdated(**fields, state=state)
    return AlertResolved(**fields, state=AlertState.RESOLVED)


event_specs = st.lists(
    st.tuples(
        st.sampled_from(("raised", "updated", "resolved")),
        st.sampled_from(ALERT_IDS),
        st.integers(0, 12),  # few distinct minutes: ties are common
        st.sampled_from(list(AlertState)),
        st.integers(1, 9),
    ),
    max_size=25,
)


def events_from(specs: Sequence[tuple[str, str, int, AlertState, int]]) -> list[AlertEvent]:
    return [an_event(n, *spec) for n, spec in enumerate(specs)]


def batches(events: list[AlertEvent], cuts: list[int]) -> list[list[AlertEvent]]:
    points = sorted({c % (len(events) + 1) for c in cuts} | {0, len(events)})
    return [events[a:b] for a, b in itertools.pairwise(points)]


def fold_in_batches(batched: list[list[AlertEvent]]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for batch in batched:
        table.update(fold_alert_events(table, batch))
    return table


@settings(max_examples=300, deadline=None)
@given(event_specs, st.randoms(use_true_random=False), st.lists(st.integers(0, 50), max_size=6))
def test_folding_a_shuffled_batch_equals_applying_its_events_one_at_a_time(
    specs: list[tuple[str, str, int, AlertState, int]], rng: random.Random, cuts: list[int]
) -> None:
    events = events_from(specs)
    rng.shuffle(events)
    one_by_one = fold_in_batches([[e] for batch in batches(events, cuts) for e in _in_order(batch)])
    assert fold_in_batches(batches(events, cuts)) == one_by_one


def test_a_late_update_records_its_acknowledgement_but_not_its_older_state() -> None:
    raised = an_event(1, "raised", "a-1", 0, AlertState.FIRING, 1)
    resolved = an_event(2, "resolved", "a-1", 10, AlertState.RESOLVED, 3)
    acknowledged = an_event(3, "updated", "a-1", 5, AlertState.ACKNOWLEDGED, 2)
    row = fold_in_batches([[raised, resolved], [acknowledged]])["a-1"]
    assert (row["state"], row["count"], row["last_event_at"]) == ("resolved", 3, resolved.occurred_at)
    assert row["acknowledged_at"] == acknowledged.occurred_at
    assert row["resolved_at"] == resolved.occurred_at
    assert row["opened_at"] == raised.first_seen
    late_raise = an_event(4, "raised", "a-1", 1, AlertState.FIRING, 7)
    assert fold_alert_events({"a-1": row}, [late_raise]) == {}


def _in_order(batch: list[AlertEvent]) -> list[AlertEvent]:
    return sorted(batch, key=lambda e: (e.occurred_at, e.event_id))


async def _apply_alert_one_at_a_time(conn: AsyncConnection, event: AlertEvent) -> None:
    """The statements the reports service ran per alert event before batching (the reference)."""
    a = t.alert_facts
    current = (await conn.execute(select(a.c.last_event_at).where(a.c.alert_id == event.alert_id))).first()
    values: dict[str, Any] = {
        "rule": event.rule,
        "severity": event.severity.value,
        "state": event.state.value,
        "title": event.title_zh,
        "summary": event.summary_zh,
        "labels": json.dumps(event.labels, ensure_ascii=False, sort_keys=True),
        "unit_id": event.labels.get("unit"),
        "count": event.count,
        "escalation_level": event.escalation_level,
        "last_event_at": event.occurred_at,
    }
    if isinstance(event, AlertUpdated) and event.state is AlertState.ACKNOWLEDGED:
        values["acknowledged_at"] = event.occurred_at
    if isinstance(event, AlertResolved):
        values["resolved_at"] = event.occurred_at
    if current is None:
        await conn.execute(insert(a).values(alert_id=event.alert_id, opened_at=event.first_seen, **values))
    elif event.occurred_at >= current[0]:
        await conn.execute(update(a).where(a.c.alert_id == event.alert_id).values(**values))
    elif isinstance(event, AlertUpdated | AlertResolved):
        late = {k: values[k] for k in ("acknowledged_at", "resolved_at") if k in values}
        if late:
            await conn.execute(update(a).where(a.c.alert_id == event.alert_id).values(**late))


async def _table(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = (await conn.execute(select(t.alert_facts).order_by(t.alert_facts.c.alert_id))).mappings().all()
    return [dict(row) for row in rows]


async def _clear(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(t.alert_facts.delete())
        await conn.execute(t.alert_severities.delete())
        await conn.execute(t.inbox.delete())


async def test_batched_alert_facts_equal_the_one_at_a_time_statements_in_the_database(
    database_url: str, namespace: str
) -> None:
    db = Database(database_url.replace("{service}", "reports"), schema=namespace, service="reports")
    await db.migrate(MIGRATIONS)
    keeper = FactKeeper(db, Inbox(t.inbox), ServiceMetrics("reports", registry=CollectorRegistry()))
    try:
        for seed in range(12):
            rng = random.Random(seed)
            specs = [
                (
                    rng.choice(("raised", "updated", "resolved")),
                    rng.choice(ALERT_IDS),
                    rng.randint(0, 12),
                    rng.choice(list(AlertState)),
                    rng.randint(1, 9),
                )
                for _ in range(30)
            ]
            events = events_from(specs)
            rng.shuffle(events)
            cut = batches(events, [rng.randint(0, 30) for _ in range(4)])
            for batch in cut:
                async with db.begin() as conn:
                    for event in _in_order(batch):
                        await _apply_alert_one_at_a_time(conn, event)
            expected = await _table(db)
            await _clear(db)
            for batch in cut:
                await keeper.alerts(batch)
            assert await _table(db) == expected, f"seed {seed}"
            await _clear(db)
    finally:
        await db.drop_schema()
        await db.dispose()
