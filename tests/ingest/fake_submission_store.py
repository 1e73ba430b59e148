"""An in-memory `SubmissionStore`: ingest's intake tested without a database.

It keeps what `SqlSubmissionStore` keeps and refuses what the database refuses (a submission id
stored twice); `test_submission_store_contract.py` holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from duban_ingest.adapters.submission_store import Row


class DuplicateSubmission(Exception):
    """A submission id already stored (the database's unique violation)."""


class InMemorySubmissionStore:
    def __init__(self) -> None:
        #: Every submission's row by id, in the order they were stored.
        self.rows: dict[str, Row] = {}
        #: The units whose turn each unit of work took, in the order taken.
        self.locked: list[list[str]] = []

    async def statuses(self, submission_ids: Sequence[str]) -> dict[str, str]:
        return {sid: self.rows[sid]["status"] for sid in submission_ids if sid in self.rows}

    async def lock_units(self, unit_ids: Sequence[str]) -> None:
        self.locked.append(list(unit_ids))

    async def accepted_with(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for sid, row in sorted(self.rows.items(), reverse=True):  # the lowest id last, so it is kept
            key = (row["unit_id"], row["content_hash"])
            if row["status"] == "accepted" and key in wanted:
                found[key] = sid
        return found

    async def add(self, rows: Sequence[Row]) -> None:
        ids = [row["submission_id"] for row in rows]
        if len(set(ids)) < len(ids) or any(sid in self.rows for sid in ids):
            raise DuplicateSubmission(ids)
        self.rows.update({row["submission_id"]: dict(row) for row in rows})

    async def status(self, submission_id: str) -> str | None:
        row = self.rows.get(submission_id)
        return None if row is None else str(row["status"])

    async def overwrite(self, submission_id: str, values: Row) -> None:
        self.rows[submission_id].update(values)

    async def rejected(self, limit: int) -> list[Row]:
        columns = ("submission_id", "kind", "unit_id", "code", "reasons", "received_at", "file_id", "row")
        chosen = sorted(
            (row for row in self.rows.values() if row["status"] == "rejected"),
            key=lambda row: (row["received_at"], row["submission_id"]),
        )
        return [{c: row[c] for c in columns} for row in chosen[:limit]]

    async def status_and_sequence(self, submission_id: str) -> tuple[str, int | None] | None:
        row = self.rows.get(submission_id)
        return None if row is None else (row["status"], row["inbound_sequence"])
