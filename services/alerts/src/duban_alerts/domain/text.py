"""How times and spans read in Chinese alert texts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def span_zh(span: timedelta) -> str:
    """`1小时`, `2天`, `61分钟`: the largest whole unit that states the span exactly."""
    minutes = int(span.total_seconds() // 60)
    if minutes >= 1440 and minutes % 1440 == 0:
        return f"{minutes // 1440}天"
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"
