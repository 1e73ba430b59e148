"""Reading `as_of` the way every duban query does: a date means the end of that local day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from duban_contracts.timezone import SHANGHAI


def as_of_instant(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=SHANGHAI) - timedelta(microseconds=1)
