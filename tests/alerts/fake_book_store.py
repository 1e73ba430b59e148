"""An in-memory `BookStore`: the alert desk tested without a database.

It keeps what `SqlBookStore` keeps: the book's rows by kind and key (a later save of a key replaces
it), the version row, and the staged notifications (the first of a key wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from duban_alerts.adapters.book_store import ROW_KEYS, BookRows
from duban_alerts.domain import Notification


class InMemoryBookStore:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {kind: {} for kind in ROW_KEYS}
        self.book_version: tuple[int, datetime | None] | None = None
        self.notifications: dict[str, Notification] = {}

    async def take_turn(self, candidate: datetime | None) -> tuple[int, datetime | None]:
        version, now = self.book_version or (0, None)
        if candidate is not None and (now is None or now < candidate):
            now = candidate
        self.book_version = (version + 1, now)
        return version, now

    async def version(self) -> int | None:
        return None if self.book_version is None else self.book_version[0]

    async def now(self) -> datetime | None:
        return None if self.book_version is None else self.book_version[1]

    async def load(self) -> BookRows:
        return {kind: list(items.values()) for kind, items in self.rows.items()}

    async def save(self, rows: Mapping[str, Sequence[Any]]) -> None:
        for kind, key_field in ROW_KEYS.items():
            self.rows[kind].update({str(item[key_field]): item for item in rows[kind]})

    async def add_notifications(self, notifications: Sequence[Notification]) -> None:
        for n in notifications:
            self.notifications.setdefault(n.key, n)
