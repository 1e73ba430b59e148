"""Rule dry-run: replay stored events through a candidate rule set, and compare with what was raised.

`duban alerts dry-run --rules FILE --from DATE --to DATE` reads the history (the EVENTS stream),
feeds its facts — incidents, measurements, progress figures (data quality), activities, task
statuses, case actions — in event time to a fresh, in-memory `AlertBook` built with the candidate
rules, with the clock ticking at the end of every local day (as the runtime's replay does), and
counts per rule what the candidate would have raised and resolved in [from, to]. Beside it: what
the running rules did raise and resolve then (the `alert.*` events of the same history). Nothing is
stored, published or sent: the book's notification plan is asked only to count what would have gone
out.

Facts before `from` are applied too (an outbreak, a case or a deadline that began earlier is state
the rules need), but only changes within the window are counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from duban_contracts.casework import step_of
from duban_contracts.events import (
    ActivityRecorded,
    AlertRaised,
    AlertResolved,
    CaseRecorded,
    Event,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
    TaskStatusChanged,
)

from ..adapters.reported import reported_measurement, reported_progress
from ..adapters.translate import activity_fact, incident_fact, measurement_fact, status_fact
from ..domain import AlertBook, Change, PlanTarget, RulesConfig

_LAST_MICROSECOND = time(23, 59, 59, 999_999)


@dataclass
class RuleOutcome:
    """One rule in the window: what the candidate would have done, what the running rules did."""

    would_raise: int = 0
    would_resolve: int = 0
    was_raised: int = 0
    was_resolved: int = 0
    examples: list[str] = field(default_factory=list)  # titles of alerts the candidate would raise

    @property
    def difference(self) -> int:
        return self.would_raise - self.was_raised


@dataclass(frozen=True)
class DryRun:
    first: date
    last: date
    events_read: int
    facts_applied: int
    notifications: int  # what the candidate would have sent (counted, never sent)
    rules: dict[str, RuleOutcome]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "events_read": self.events_read,
            "facts_applied": self.facts_applied,
            "notifications_not_sent": self.notifications,
            "rules": {
                rule: {
                    "would_raise": outcome.would_raise,
                    "would_resolve": outcome.would_resolve,
                    "was_raised": outcome.was_raised,
                    "was_resolved": outcome.was_resolved,
                    "difference": outcome.difference,
                    "examples": outcome.examples,
                }
                for rule, outcome in sorted(self.rules.items())
            },
        }


def dry_run(
    events: Iterable[Event],
    rules: RulesConfig,
    targets: Sequence[PlanTarget],
    *,
    first: date,
    last: date,
    examples: int = 5,
) -> DryRun:
    """The candidate `rules` over `events` (any order; replayed in event time), counted within [first, last]."""
    zone = rules.zone
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last, _LAST_MICROSECOND, tzinfo=zone)
    outcomes: dict[str, RuleOutcome] = defaultdict(RuleOutcome)
    facts: list[Event] = []
    read = 0
    for event in events:
        read += 1
        if isinstance(event, AlertRaised | AlertResolved):
            _count_what_was(outcomes, event, start, end)
        elif _is_fact(event) and _known_at(event) <= end:
            facts.append(event)
    changes, notifications = _replay(AlertBook(rules, targets), facts, start, last)
    for change in changes:
        if start <= change.at <= end:
            _count_what_would(outcomes[change.alert.rule], change, examples)
    return DryRun(first, last, read, len(facts), notifications, dict(outcomes))


def _count_what_was(
    outcomes: dict[str, RuleOutcome], event: AlertRaised | AlertResolved, start: datetime, end: datetime
) -> None:
    if not start <= event.occurred_at <= end:
        return
    if isinstance(event, AlertRaised):
        outcomes[event.rule].was_raised += 1
    else:
        outcomes[event.rule].was_resolved += 1


def _count_what_would(outcome: RuleOutcome, change: Change, examples: int) -> None:
    if change.kind == "raised":
        outcome.would_raise += 1
        if len(outcome.examples) < examples:
            outcome.examples.append(change.alert.title_zh)
    elif change.kind == "resolved":
        outcome.would_resolve += 1


def _replay(book: AlertBook, facts: list[Event], start: datetime, last: date) -> tuple[list[Change], int]:
    """Facts in event time, the clock at the end of each local day; notifications counted from `start` on."""
    zone = book.rules.zone
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in sorted(facts, key=lambda e: (_known_at(e), e.event_id)):
        by_day[_known_at(event).astimezone(zone).date()].append(event)
    changes: list[Change] = []
    notifications = 0
    day = min(by_day, default=start.date())
    while day <= last:
        for event in by_day.get(day, ()):
            changes.extend(_apply(book, event))
        now = datetime.combine(day, _LAST_MICROSECOND, tzinfo=zone)
        changes.extend(book.tick(now))
        if now >= start:
            notifications += len(book.plan_notifications(now))
        day += timedelta(days=1)
    return changes, notifications


def _is_fact(event: Event) -> bool:
    return isinstance(
        event,
        IncidentReported | MeasurementRecorded | ProgressRecorded | ActivityRecorded | TaskStatusChanged | CaseRecorded,
    )


def _known_at(event: Event) -> datetime:
    reported = getattr(event, "reported_at", None)
    return reported if isinstance(reported, datetime) else event.occurred_at


def _apply(book: AlertBook, event: Event) -> list[Change]:
    match event:
        case IncidentReported():
            return book.apply_incident(incident_fact(event))
        case MeasurementRecorded():
            reported = reported_measurement(event, book.rules.zone)
            return [*book.apply_measurement(measurement_fact(event)), *book.apply_reported(reported)]
        case ProgressRecorded():
            return book.apply_reported(reported_progress(event, book.rules.zone))
        case ActivityRecorded():
            return book.apply_activity(activity_fact(event))
        case TaskStatusChanged():
            return book.apply_status(status_fact(event))
        case CaseRecorded():
            return book.apply_case(step_of(event))
    return []
