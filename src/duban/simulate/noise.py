"""What goes wrong on the way in: first attempts that ingest must refuse, and messages sent twice.

A malformed attempt is a real report written wrongly — a unit name nobody knows, 曾口小学 (two schools
answer to it), 万元 for square metres, 2月30日, a date still to come, a negative increment, an
indicator the plan does not have, a missing date, 待定 for a number, or a message cut off in transit.
The unit then sends the report correctly a little later, as people do after a rejection. Duplicates
are the same message re-sent under its id (a retry) and the same report re-sent under a new id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .calendar import workday_on_or_after
from .drafts import RATIO, Amount, Draft
from .dress import Mangle

#: About this share of reports is first sent wrongly.
MALFORMED_SHARE = 0.04
DUPLICATE_ID_SHARE = 0.015
DUPLICATE_CONTENT_SHARE = 0.01

UNKNOWN_UNITS = ("巴州区光明小学", "巴州区红星中学", "巴中市第九中学", "巴州区新华小学")
AMBIGUOUS_UNIT = "曾口小学"
UNKNOWN_INDICATORS = ("新建学生宿舍", "校园绿化面积", "图书购置")
NOT_NUMBERS = ("待定", "见附件", "待统计")


@dataclass(frozen=True)
class Blunder:
    code: str  # the rejection code ingest gives
    mangle: Mangle | None  # None: the message is cut off (not JSON at all)


def blunder_for(rng: random.Random, draft: Draft) -> Blunder | None:
    """A plausible way to get this draft wrong, or None when none fits."""
    options = [b for b in _options(rng, draft) if b is not None]
    return rng.choice(options) if options else None


def _options(rng: random.Random, draft: Draft) -> list[Blunder | None]:
    year = draft.at.year
    day = draft.at.date()
    future = day + timedelta(days=rng.randint(5, 20))
    impossible = rng.choice((f"{year}-02-30", f"{year}年4月31日", f"{year}/6/31", f"{year}-11-31"))
    common: list[Blunder | None] = [
        Blunder("unknown_unit", Mangle(source=rng.choice(UNKNOWN_UNITS))),
        Blunder("ambiguous_unit", Mangle(source=AMBIGUOUS_UNIT)) if draft.reporter.is_school else None,
        Blunder("invalid_json", None),
    ]
    match draft.kind:
        case "progress":
            return [*common, *_progress_options(rng, draft, impossible, future)]
        case "measurement":
            value = draft.fields["value"]
            return [
                *common,
                Blunder("invalid_date", Mangle(replace={"date": impossible})),
                Blunder("implausible_value", Mangle(replace={"value": int(str(value)) * 10})),
                Blunder("invalid_number", Mangle(replace={"value": rng.choice(NOT_NUMBERS)})),
                Blunder("missing_field", Mangle(drop=frozenset({"date"}))),
            ]
        case "activity":
            options = [*common, Blunder("invalid_date", Mangle(replace={"date": impossible}))]
            if future.year == year:
                options.append(Blunder("date_in_future", Mangle(replace={"date": future.isoformat()})))
            return options
    return [Blunder("invalid_date", Mangle(replace={"occurred_at": impossible + " 08:30"}))]


def _progress_options(rng: random.Random, draft: Draft, impossible: str, future: date) -> list[Blunder | None]:
    amount = draft.fields["amount"]
    if not isinstance(amount, Amount):
        raise TypeError(f"not a progress draft: {draft}")
    options: list[Blunder | None] = [
        Blunder("invalid_date", Mangle(replace={"date": impossible})),
        Blunder("unknown_target", Mangle(replace={"indicator": rng.choice(UNKNOWN_INDICATORS)})),
        Blunder("missing_field", Mangle(drop=frozenset({"date"}))),
        Blunder("invalid_number", Mangle(replace={"amount": rng.choice(NOT_NUMBERS)})),
    ]
    if amount.unit != RATIO:
        wrong = "平方米" if amount.unit == "元" else "万元"
        options.append(Blunder("unit_mismatch", Mangle(replace={"amount": f"{amount.value}{wrong}"})))
    if amount.unit != RATIO and draft.fields["mode"] == "increment" and amount.value > 0:
        options.append(Blunder("negative_value", Mangle(replace={"amount": f"-{amount.value}"})))
    if future.year == draft.at.year:
        options.append(Blunder("date_in_future", Mangle(replace={"date": future.isoformat()})))
    return options


def correction_delay(rng: random.Random, draft: Draft) -> timedelta:
    """How long after a rejection the unit sends the report again (same day, or the next working day)."""
    minutes = rng.randint(15, 150)
    corrected = draft.at + timedelta(minutes=minutes)
    if corrected.hour >= 18:
        next_day = workday_on_or_after(draft.at.date() + timedelta(days=1))
        return timedelta(days=(next_day - draft.at.date()).days, minutes=rng.randint(-60, 60))
    return timedelta(minutes=minutes)
