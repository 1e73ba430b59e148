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
