"""Submissions counted per local day: what the report's reporting-rate, 数据质量 and headline figures read.

Every submission is counted twice: on the local day it is about (`occurred`) and on the local day it
arrived (`received`), under its status, kind and unit. A year of a large district is a million rows
of `submission_facts` but some tens of thousands of day counts, so the annual report reads the counts
for whole days and only the last, partial day's rows themselves (`DaySpan`).

Each count also keeps the earliest arrival among its submissions (`first_received`), which makes a
unit's first report about a month — the on-time test of the reporting rate — a MIN over day counts,
and the greatest unit name seen (a unit's name, as the raw rows' MAX gave it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from .periods import local_date, local_midnight

Basis = Literal["occurred", "received"]


@dataclass(frozen=True, order=True)
class CountKey:
    basis: Basis
    day: date
    status: str
    kind: str  # "" where the submission named none (a rejection before it was read)
    unit_id: str  # "" likewise

    @property
    def month(self) -> date:
        return self.day.replace(day=1)


@dataclass(frozen=True)
class Tally:
    count: int
    first_received: datetime
    unit_name: str | None

    def __add__(self, other: Tally) -> Tally:
        names = [n for n in (self.unit_name, other.unit_name) if n is not None]
        return Tally(
            self.count + other.count,
            min(self.first_received, other.first_received),
            max(names) if names else None,
        )


def count_keys(row: Mapping[Any, Any]) -> tuple[CountKey, CountKey]:
    """The two day counts a stored `submission_facts` row belongs to."""
    status, kind, unit_id = row["status"], row["kind"] or "", row["unit_id"] or ""
    return (
        CountKey("occurred", local_date(row["occurred_at"]), status, kind, unit_id),
        CountKey("received", local_date(row["received_at"]), status, kind, unit_id),
    )


def tallies(rows: Iterable[Mapping[Any, Any]]) -> dict[CountKey, Tally]:
    """The day counts of these rows (each row counted once on each basis)."""
    counted: dict[CountKey, Tally] = {}
    for row in rows:
        one = Tally(1, row["received_at"], row["unit_name"])
        add_tallies(counted, dict.fromkeys(count_keys(row), one))
    return counted


def add_tallies(counts: dict[CountKey, Tally], more: Mapping[CountKey, Tally]) -> None:
    """Add `more` into `counts`, count by count."""
    for key, tally in more.items():
        counts[key] = counts[key] + tally if key in counts else tally


def counted_alike(before: Mapping[Any, Any], after: Mapping[Any, Any]) -> bool:
    """Whether a submission's new verdict leaves every day count it is in as it was."""
    return count_keys(before) == count_keys(after) and all(
        before[column] == after[column] for column in ("received_at", "unit_name")
    )


@dataclass(frozen=True)
class DaySpan:
    """Instants from `start` (a local midnight, or the beginning of time) to `end`, in two parts.

    Whole local days `first_day` … `end_day` (exclusive) are read from the day counts; the part of
    `end`'s own day the span covers — from its local midnight `rows_from` to `end` — is read from
    the rows themselves (`rows_from` None where the span stops at a midnight). Report periods begin on
    local midnights, so the start never needs rows of its own.
    """

    first_day: date | None  # None: no lower bound
    end_day: date  # exclusive
    rows_from: datetime | None
    end: datetime
    end_inclusive: bool


def day_span(start: datetime | None, end: datetime, *, end_inclusive: bool = True) -> DaySpan:
    """[start, end] (or [start, end) when not `end_inclusive`) as whole days and a partial last day."""
    if start is not None and local_midnight(local_date(start)) != start:
        raise ValueError(f"a day span starts on a local midnight, not {start.isoformat()}")
    if start is not None and (end < start or (end == start and not end_inclusive)):
        return DaySpan(local_date(start), local_date(start), None, end, end_inclusive)  # nothing
    first_day = local_date(start) if start is not None else None
    last_day = local_date(end)
    midnight = local_midnight(last_day)
    partial = None if (midnight == end and not end_inclusive) else midnight
    return DaySpan(first_day, last_day, partial, end, end_inclusive)


def upper_bound(period_end: datetime, as_of: datetime) -> tuple[datetime, bool]:
    """`t < period_end and t <= as_of` as one bound: (instant, inclusive)."""
    return (as_of, True) if as_of < period_end else (period_end, False)
