"""An in-memory `FactStore`: the reports service's fact keeping, tested without a database.

It keeps what `SqlFactStore` keeps, table by table, and refuses what the database refuses (a second
row with the same key); `test_fact_store_contract.py` holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from duban_reports.adapters.fact_store import AppendOnly, Row
from duban_reports.domain.submission_counts import CountKey, Tally, add_tallies, tallies

_KEYS: dict[str, str] = {
    "progress_facts": "event_id",
    "incident_facts": "event_id",
    "activity_facts": "event_id",
    "status_history": "event_id",
    "case_summaries": "event_id",
    "signoffs": "event_id",
    "alert_severities": "event_id",
    "submission_facts": "submission_id",
    "alert_facts": "alert_id",
}


class DuplicateKey(Exception):
    """A row whose key is already stored (the database's unique violation)."""


class InMemoryFactStore:
    def __init__(self) -> None:
        #: Every table's rows by key, in the order they were first stored.
        self.tables: dict[str, dict[str, Row]] = {name: {} for name in _KEYS}
        self.clock: datetime | None = None
        self.counts: dict[CountKey, Tally] = {}

    def rows(self, table: str) -> list[Row]:
        return list(self.tables[table].values())

    async def add(self, table: AppendOnly, rows: Sequence[Row]) -> None:
        self._insert(table, rows)

    async def submissions(self, submission_ids: Sequence[str]) -> dict[str, Row]:
        return self._read("submission_facts", submission_ids)

    async def save_submissions(self, changed: Sequence[Row], new: Sequence[Row]) -> None:
        self._overwrite("submission_facts", changed)
        self._insert("submission_facts", new)

    async def count_submissions(self, counted: Mapping[CountKey, Tally]) -> None:
        add_tallies(self.counts, counted)

    async def recount_submissions(self, keys: Collection[CountKey]) -> None:
        recounted = tallies(self.rows("submission_facts"))
        for key in keys:
            self.counts.pop(key, None)
            if key in recounted:
                self.counts[key] = recounted[key]

    async def alerts(self, alert_ids: Sequence[str]) -> dict[str, Row]:
        return self._read("alert_facts", alert_ids)

    async def save_alerts(self, changed: Sequence[Row], new: Sequence[Row]) -> None:
        self._overwrite("alert_facts", changed)
        self._insert("alert_facts", new)

    async def advance_clock(self, candidate: datetime) -> None:
        if self.clock is None or candidate > self.clock:
            self.clock = candidate

    def _read(self, table: str, ids: Sequence[str]) -> dict[str, Row]:
        stored = self.tables[table]
        return {key: dict(stored[key]) for key in sorted(ids) if key in stored}  # copies, as a SELECT returns

    def _insert(self, table: str, rows: Sequence[Row]) -> None:
        stored, key = self.tables[table], _KEYS[table]
        if len({row[key] for row in rows}) < len(rows) or any(row[key] in stored for row in rows):
            raise DuplicateKey(table)
        stored.update({row[key]: dict(row) for row in rows})

    def _overwrite(self, table: str, rows: Sequence[Row]) -> None:
        stored, key = self.tables[table], _KEYS[table]
        for row in rows:
            stored[row[key]] = {**stored[row[key]], **row}
