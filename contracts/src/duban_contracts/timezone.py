"""The bureau's time zone: local dates, working days, deadlines and report periods are read in it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

#: Bazhou keeps China Standard Time (UTC+8, no daylight saving).
SHANGHAI = ZoneInfo("Asia/Shanghai")
