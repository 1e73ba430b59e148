"""How reports from many sources add up to a target's actual value.

A source reports either increments (新增120) or its cumulative figure to date (累计600). Per source,
the figure as of a time is its latest cumulative report up to then, plus the increments it reported
after that cumulative report; a source that never reported cumulatively contributes the sum of its
increments. The target's actual is the sum over sources. This is insensitive to duplicates (entries
are keyed by event id) and to arrival order (only event times matter), so a cumulative report
followed by an older, out-of-order one never moves the figure backwards.

Rates (ratio, coverage, growth) do not add up: their actual is the most recent report of any source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Mode = Literal["increment", "cumulative"]


@dataclass(frozen=True)
class ProgressEntry:
    event_id: str
    target_id: str
    source: str
    mode: Mode
    value: float
    occurred_at: datetime


def source_total(entries: Iterable[ProgressEntry], as_of: datetime | None = None) -> float:
    """One source's figure for one target as of `as_of` (all time when None)."""
    relevant = [e for e in entries if as_of is None or e.occurred_at <= as_of]
    cumulative = [e for e in relevant if e.mode == "cumulative"]
    if not cumulative:
        return sum(e.value for e in relevant)
    latest_at = max(e.occurred_at for e in cumulative)
    # Two cumulative figures at the same instant: the larger, so the result never depends on order.
    base = max(e.value for e in cumulative if e.occurred_at == latest_at)
    return base + sum(e.value for e in relevant if e.mode == "increment" and e.occurred_at > latest_at)


def combined_total(entries: Iterable[ProgressEntry], as_of: datetime | None = None) -> float:
    """The target's actual: the sum of every source's figure."""
    by_source: dict[str, list[ProgressEntry]] = defaultdict(list)
    for entry in {e.event_id: e for e in entries}.values():
        by_source[entry.source].append(entry)
    return sum(source_total(group, as_of) for group in by_source.values())


def latest_rate(entries: Iterable[ProgressEntry], as_of: datetime | None = None) -> float | None:
    """A rate's actual: the most recent report (ties broken by event id), or None if none."""
    relevant = [e for e in entries if as_of is None or e.occurred_at <= as_of]
    if not relevant:
        return None
    return max(relevant, key=lambda e: (e.occurred_at, e.event_id)).value


@dataclass(frozen=True)
class SourceSummary:
    """What one source's reports on one target add up to, kept up to date as reports arrive.

    Enough to give `source_total` and `latest_rate` at the service's now (every report is at or
    before it) without reading the history: the latest cumulative figure, the increments after it,
    the time of the newest increment (to know whether older increments can still count after a new,
    out-of-order cumulative report), the number of reports and the most recent report.
    """

    reports: int = 0
    cumulative_at: datetime | None = None
    cumulative_value: float | None = None
    increments: float = 0.0
    last_increment_at: datetime | None = None
    latest: tuple[datetime, str, float] | None = None  # (occurred_at, event_id, value)

    @property
    def total(self) -> float:
        return (self.cumulative_value or 0.0) + self.increments


def fold(summary: SourceSummary, entries: Iterable[ProgressEntry]) -> tuple[SourceSummary, bool]:
    """The summary with new entries of its source added (each entry once), and whether to recount.

    When a new cumulative report is newer than the latest one and earlier-recorded increments exist
    after it, the summary cannot tell how many of them: the flag asks the caller to set `increments`
    to the sum of every increment after `cumulative_at` (the new entries included).
    """
    added = list(entries)
    cumulative = [e for e in added if e.mode == "cumulative"]
    at, value, increments = summary.cumulative_at, summary.cumulative_value, summary.increments
    recount = False
    if cumulative:
        newest = max(e.occurred_at for e in cumulative)
        newest_value = max(e.value for e in cumulative if e.occurred_at == newest)
        if at is None or newest > at:
            recount = summary.last_increment_at is not None and summary.last_increment_at > newest
            at, value, increments = newest, newest_value, 0.0
        elif newest == at:
            value = newest_value if value is None else max(value, newest_value)
    new_increments = [e for e in added if e.mode == "increment"]
    if not recount:
        increments += sum(e.value for e in new_increments if at is None or e.occurred_at > at)
    last_increment_at = max(
        (
            moment
            for moment in [summary.last_increment_at, *(e.occurred_at for e in new_increments)]
            if moment is not None
        ),
        default=None,
    )
    candidates = [(e.occurred_at, e.event_id, e.value) for e in added]
    if summary.latest is not None:
        candidates.append(summary.latest)
    latest = max(candidates, key=lambda c: (c[0], c[1]), default=None)
    folded = SourceSummary(summary.reports + len(added), at, value, increments, last_increment_at, latest)
    return folded, recount
