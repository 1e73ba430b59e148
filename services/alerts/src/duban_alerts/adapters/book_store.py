"""Where the alert book is kept between units of work: the `BookStore` the alert desk talks to.

The desk keeps the book in memory and saves the rows each unit of work changed; the version row
says which writer wrote last (replicas take turns on it and reload when another wrote). The
notifications a unit of work planned are staged beside the book for the sender.
`SqlBookStore` is the one the service runs, in kit's transaction; unit tests give the desk an
in-memory store instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_kit.db import insert_missing, moved_forward, upsert

from ..domain import Notification, notification_to_json
from . import tables as t

#: The key of each row kind of the book's state.
ROW_KEYS = {
    "alerts": "id",
    "silences": "id",
    "notification_log": "group_key",
    "cases": "fact_id",
    "activities": "fact_id",
    "observations": "subject",
    "statuses": "target_id",
    "facts": "fact_id",
    "case_steps": "event_id",
    "reported": "fact_id",
}

#: The book's state as JSON: each row kind's items (`state_to_json`, `state_from_json`).
BookRows = dict[str, list[Any]]


class BookStore(Protocol):
    """The reads and writes of the alert desk, inside one unit of work (or one read)."""

    async def take_turn(self, candidate: datetime | None) -> tuple[int, datetime | None]:
        """Bump the book's version and move its event-time now forward to `candidate`, the row held until
        the unit of work ends: the version before (0 at first) and the now after."""

    async def version(self) -> int | None:
        """The book's version as last committed, without waiting for a writer."""

    async def now(self) -> datetime | None:
        """The book's event-time now as last committed."""

    async def load(self) -> BookRows:
        """Every row of the book, by kind."""

    async def save(self, rows: Mapping[str, Sequence[Any]]) -> None:
        """Store the book's changed rows (by kind; a kind's rows are unique by key), replacing stored ones."""

    async def add_notifications(self, notifications: Sequence[Notification]) -> None:
        """Stage planned notifications for the sender; one already staged (same key) is left alone."""


class SqlBookStore:
    """A `BookStore` on the alerts service's database, in the connection of kit's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def take_turn(self, candidate: datetime | None) -> tuple[int, datetime | None]:
        """One statement: it locks the row (replicas take turns) and writes what the commit leaves."""
        v = t.book_version.c
        values: dict[str, Any] = {"version": v.version + 1}
        if candidate is not None:
            values["now"] = moved_forward(v.now, candidate)
        taken = await self.conn.execute(
            update(t.book_version).where(v.id == 1).values(values).returning(v.version, v.now)
        )
        row = taken.first()
        if row is None:
            await self.conn.execute(insert(t.book_version).values(id=1, version=1, now=candidate))
            return 0, candidate
        return int(row.version) - 1, row.now

    async def version(self) -> int | None:
        return await self.conn.scalar(select(t.book_version.c.version).where(t.book_version.c.id == 1))

    async def now(self) -> datetime | None:
        return await self.conn.scalar(select(t.book_version.c.now).where(t.book_version.c.id == 1))

    async def load(self) -> BookRows:
        rows: BookRows = {kind: [] for kind in ROW_KEYS}
        for kind, data in await self.conn.execute(select(t.book_rows.c.kind, t.book_rows.c.data)):
            rows[kind].append(orjson.loads(data))
        return rows

    async def save(self, rows: Mapping[str, Sequence[Any]]) -> None:
        """Every kind in one statement."""
        stored = [
            {
                "kind": kind,
                "key": str(item[key_field]),
                "data": dumps(item),
                "state": item.get("state") if kind == "alerts" else None,
                "severity": item.get("severity") if kind == "alerts" else None,
                "rule": item.get("rule") if kind == "alerts" else None,
            }
            for kind, key_field in ROW_KEYS.items()
            for item in rows[kind]
        ]
        await upsert(self.conn, t.book_rows, stored, keys=("kind", "key"))

    async def add_notifications(self, notifications: Sequence[Notification]) -> None:
        rows = [
            {
                "key": n.key,
                "receiver": n.receiver,
                "data": dumps(notification_to_json(n)),
                "created_at": n.created_at,
                "status": "pending",  # the sender records one delivery per channel, then `dispatched`
            }
            for n in notifications
        ]
        # A notification already staged (same key) is left alone: one statement, no read first.
        await insert_missing(self.conn, t.notifications, rows, keys=("key",))


def dumps(data: dict[str, Any]) -> str:
    """JSON with sorted keys, as the rows were always written (orjson: the book is saved every batch)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
