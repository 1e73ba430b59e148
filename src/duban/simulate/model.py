"""What the simulator hands over: deliveries in the order integrations would send them.

Plain data only. A `Submission` is one message for `<ns>.in.submission` (its `Nats-Msg-Id` and the
exact bytes); a `FileUpload` is a spreadsheet as a school or section would upload it. Each carries
the event time `at` at which it is sent — the same instant the payload names as its `submitted_at`
(填报时间), so that ingest judges reporting timeliness in event time however fast the year replays.

`intent` says what the simulator meant a delivery to be, so that tests and the inspection output can
tell the deliberate noise from the data: `valid`, `duplicate_id` (the same id sent again),
`duplicate_content` (the same report under a new id), or `malformed:<code>` with the rejection code
ingest is expected to give.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from typing import Literal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

VALID = "valid"
DUPLICATE_ID = "duplicate_id"
DUPLICATE_CONTENT = "duplicate_content"
MALFORMED = "malformed"

Kind = Literal["progress", "incident", "measurement", "activity", "case"]
Fate = Literal["done", "on_track", "lagging", "critical", "silent"]


def malformed(code: str) -> str:
    """The intent of a delivery meant to be rejected with `code`."""
    return f"{MALFORMED}:{code}"


@dataclass(frozen=True)
class Expected:
    """What ingest should read a valid submission as (canonical values, base units)."""

    kind: Kind
    unit_id: str
    subject: str | None = None  # target id, metric id, or activity target id
    value: float | None = None


@dataclass(frozen=True)
class Submission:
    """One JSON message (or, when malformed on purpose, bytes that are not JSON)."""

    at: datetime
    submission_id: str
    body: bytes
    intent: str = VALID
    expected: Expected | None = None

    @property
    def payload(self) -> dict[str, object] | None:
        """The JSON object sent, or None when the body is not JSON."""
        try:
            loaded = json.loads(self.body)
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None

    @property
    def local_day(self) -> date:
        return self.at.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class FileUpload:
    """A spreadsheet (CSV or XLSX bytes); rows without a unit or kind take `source` / `kind`."""

    at: datetime
    name: str
    data: bytes
    source: str | None = None
    kind: Kind | None = None
    intent: str = VALID
    malformed_rows: Mapping[int, str] = field(default_factory=dict)  # sheet row -> expected rejection code

    @property
    def local_day(self) -> date:
        return self.at.astimezone(SHANGHAI).date()


Delivery = Submission | FileUpload


def delivery_order(delivery: Delivery) -> tuple[datetime, str]:
    return delivery.at, delivery.submission_id if isinstance(delivery, Submission) else delivery.name


@dataclass(frozen=True)
class SimulatedYear:
    """A plausible year of deliveries, in the order they are sent."""

    seed: int
    year: int
    deliveries: tuple[Delivery, ...]
    #: target id -> how its year goes: done, on_track, lagging, critical, silent (never reported);
    #: held, late, missed (dated duties); missed:<quarter> (periodic duties)
    fates: Mapping[str, str] = field(default_factory=dict)

    @property
    def submissions(self) -> tuple[Submission, ...]:
        return tuple(d for d in self.deliveries if isinstance(d, Submission))

    @property
    def uploads(self) -> tuple[FileUpload, ...]:
        return tuple(d for d in self.deliveries if isinstance(d, FileUpload))

    def days(self) -> Iterator[tuple[date, tuple[Delivery, ...]]]:
        """(local day, its deliveries) for every day that has any, in order."""
        for day, group in groupby(self.deliveries, key=lambda d: d.local_day):
            yield day, tuple(group)
