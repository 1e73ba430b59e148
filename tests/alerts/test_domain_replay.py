"""Determinism: replays, duplicates, shuffles, and persistence round trips give the same alerts."""

from __future__ import annotations

import json
import random
from dataclasses import astuple, fields
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from duban_alerts.domain import (
    ActivityFact,
    Alert,
    AlertBook,
    BookState,
    Change,
    IncidentFact,
    MeasurementFact,
    PlanTarget,
    RulesConfig,
    StatusFact,
    load_rules,
    notification_from_json,
    notification_to_json,
    state_from_json,
    state_to_json,
)
from duban_contracts.events import IncidentCategory, IncidentGrade, TargetStatus
from tests.alerts.alerts_support import (
    OTHER_SCHOOL,
    SCHOOL,
    activity,
    at,
    case,
    dated_event,
    incident,
    measurement,
    periodic,
    status,
)

Fact = IncidentFact | MeasurementFact | ActivityFact | StatusFact
START = at("2023-03-01 00:00")
TICK = timedelta(hours=6)
DAYS = 50
TARGETS: tuple[PlanTarget, ...] = (
    dated_event("t24_safety_day", due=date(2023, 4, 15)),
    dated_event("t33_science_week", due=date(2023, 3, 31), start=date(2023, 3, 20)),
    periodic("t04_ideology_meeting_quarterly"),
)


def scenario(seed: int) -> list[Fact]:
    """Two months of reports at two schools: cases, incidents, measurements, activities, statuses."""
    rng = random.Random(seed)

    def moment(day: int) -> str:
        return (START + timedelta(days=day, minutes=rng.randrange(0, 24 * 60))).strftime("%Y-%m-%d %H:%M")

    facts: list[Fact] = []
    for _ in range(rng.randrange(10, 40)):
        facts.append(
            case(
                moment(rng.randrange(DAYS)),
                cases=rng.choice([1, 1, 1, 2, 3]),
                disease=rng.choice(["流感", "流感", "水痘", "麻疹", None]),
                class_name=rng.choice(["1班", "2班", "3班", None]),
                unit=rng.choice([SCHOOL, OTHER_SCHOOL]),
                reported_after=timedelta(minutes=rng.randrange(5, 300)),
            )
        )
    for _ in range(rng.randrange(0, 5)):
        facts.append(
            incident(
                moment(rng.randrange(DAYS)),
                category=rng.choice([IncidentCategory.DROWNING, IncidentCategory.FOOD_SAFETY]),
                grade=rng.choice([None, IncidentGrade.III, IncidentGrade.IV]),
                deaths=rng.choice([0, 0, 1]),
                cases=rng.choice([0, 3, 6]),
                reported_after=timedelta(minutes=rng.randrange(5, 200)),
            )
        )
    for class_name in ("1班", "2班"):  # one measurement per class and day: the latest decides
        for day in sorted(rng.sample(range(DAYS), 4)):
            facts.append(measurement(rng.choice([50, 56, 60, 66, 70]), moment(day), class_name=class_name))
    for day in sorted(rng.sample(range(DAYS), 4)):
        facts.append(status("t07_x", rng.choice(list(TargetStatus)), moment(day)))
    for target in ("t24_safety_day", "t33_science_week", "t04_ideology_meeting_quarterly"):
        if rng.random() < 0.6:
            facts.append(activity(target, moment(rng.randrange(DAYS))))
    return facts


def known_at(fact: Fact) -> datetime:
    return fact.known_at


def apply(book: AlertBook, fact: Fact) -> list[Change]:
    match fact:
        case IncidentFact():
            return book.apply_incident(fact)
        case MeasurementFact():
            return book.apply_measurement(fact)
        case ActivityFact():
            return book.apply_activity(fact)
        case StatusFact():
            return book.apply_status(fact)


def windows(facts: list[Fact]) -> list[list[Fact]]:
    """The facts between consecutive ticks, in time order."""
    buckets: list[list[Fact]] = [[] for _ in range(DAYS * 4 + 40)]
    for fact in sorted(facts, key=lambda f: (known_at(f), f.fact_id)):
        buckets[int((known_at(fact) - START) / TICK)].append(fact)
    return buckets


def run(
    config: RulesConfig, buckets: list[list[Fact]], book: AlertBook | None = None, first: int = 0
) -> tuple[AlertBook, list[str]]:
    """Apply each window's facts, then tick and plan notifications at its end; from window `first`."""
    book = book or AlertBook(config, TARGETS)
    sent: list[str] = []
    for index, bucket in enumerate(buckets):
        if index < first:
            continue
        for fact in bucket:
            apply(book, fact)
        now = START + (index + 1) * TICK
        book.tick(now)
        sent.extend(n.key for n in book.plan_notifications(now))
    return book, sent


def outcome(alert: Alert) -> tuple[Any, ...]:
    """What an alert says, leaving out how many intermediate updates it took to get there."""
    skipped = {"version", "updated_at"}
    return tuple(getattr(alert, f.name) for f in fields(alert) if f.name not in skipped)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1_000_000))
def test_duplicates_and_shuffles_within_a_tick_give_the_same_alerts_and_notifications(seed: int) -> None:
    config = load_rules()
    facts = scenario(seed)
    rng = random.Random(seed + 1)
    noisy = facts + rng.sample(facts, max(1, len(facts) // 10))  # 10% delivered twice

    orderly, orderly_sent = run(config, windows(facts))
    shuffled_buckets = windows(noisy)
    for bucket in shuffled_buckets:
        rng.shuffle(bucket)
    shuffled, shuffled_sent = run(config, shuffled_buckets)

    assert [outcome(a) for a in shuffled.alerts()] == [outcome(a) for a in orderly.alerts()]
    assert shuffled_sent == orderly_sent


def test_the_same_facts_in_the_same_order_give_identical_alerts_ids_and_notifications() -> None:
    config = load_rules()
    buckets = windows(scenario(7))

    first, first_sent = run(config, buckets)
    second, second_sent = run(config, buckets)

    assert first.alerts() == second.alerts()
    assert first_sent == second_sent
    assert first.alerts()  # the scenario does raise alerts


def test_replaying_every_fact_again_changes_nothing() -> None:
    config = load_rules()
    facts = scenario(11)
    book, _ = run(config, windows(facts))
    before = book.alerts()

    replayed = [change for fact in facts for change in apply(book, fact)]

    assert replayed == []
    assert book.alerts() == before


class _Tables:
    """A stand-in database: upserts `take_writes()` rows by their keys."""

    KEYS: ClassVar[dict[str, str]] = {
        "alerts": "id",
        "silences": "id",
        "notification_log": "group_key",
        "cases": "fact_id",
        "activities": "fact_id",
        "observations": "subject",
        "statuses": "target_id",
        "facts": "fact_id",
    }

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {table: {} for table in self.KEYS}

    def upsert(self, writes: BookState) -> None:
        for table, key in self.KEYS.items():
            for row in getattr(writes, table):
                self.rows[table][getattr(row, key)] = row

    def load(self) -> BookState:
        return BookState(**{table: list(rows.values()) for table, rows in self.rows.items()})


def test_persisting_the_written_rows_and_reloading_continues_exactly_where_it_left_off() -> None:
    config = load_rules()
    buckets = windows(scenario(23))
    half = len(buckets) // 2
    tables = _Tables()
    live = AlertBook(config, TARGETS)
    for index, bucket in enumerate(buckets[:half]):
        for fact in bucket:
            apply(live, fact)
            tables.upsert(live.take_writes())
        live.tick(START + (index + 1) * TICK)
        live.plan_notifications(START + (index + 1) * TICK)
        tables.upsert(live.take_writes())

    stored = json.loads(json.dumps(state_to_json(tables.load())))
    reloaded = AlertBook(config, TARGETS, state_from_json(stored))
    _, live_sent = run(config, buckets, live, first=half)
    _, reloaded_sent = run(config, buckets, reloaded, first=half)

    assert reloaded.alerts() == live.alerts()
    assert reloaded_sent == live_sent


def test_the_state_survives_a_json_round_trip_unchanged() -> None:
    book, _ = run(load_rules(), windows(scenario(5)))
    book.add_silence(
        ['unit_id="bz-ez"'], starts_at=START, ends_at=START + timedelta(days=1), created_by="a", comment="c", now=START
    )
    state = book.state()

    again = state_from_json(json.loads(json.dumps(state_to_json(state), ensure_ascii=False)))

    assert [astuple(a) for a in again.alerts] == [astuple(a) for a in state.alerts]
    assert again == state


def test_a_notification_survives_a_json_round_trip_for_the_outbox() -> None:
    book = AlertBook(load_rules(), TARGETS)
    book.apply_incident(incident(deaths=1))
    (notification,) = book.plan_notifications(at("2023-06-01 08:10"))

    stored = json.loads(json.dumps(notification_to_json(notification), ensure_ascii=False))

    assert notification_from_json(stored) == notification


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1_000_000))
def test_the_planner_regrouping_only_what_changed_plans_what_a_fresh_one_plans(seed: int) -> None:
    """The live book regroups only the alerts that changed; a book loaded from the same state
    groups everything afresh. At every tick both must plan the very same notifications."""
    config = load_rules()
    live = AlertBook(config, TARGETS)
    for index, bucket in enumerate(windows(scenario(seed))):
        for fact in bucket:
            apply(live, fact)
        now = START + (index + 1) * TICK
        live.tick(now)
        fresh = AlertBook(config, TARGETS, live.state())
        expected = [notification_to_json(n) for n in fresh.plan_notifications(now)]
        assert [notification_to_json(n) for n in live.plan_notifications(now)] == expected, index
