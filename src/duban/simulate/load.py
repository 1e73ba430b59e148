"""Load for benchmarks: a steady stream of clean, valid submissions from many units.

Ingest refuses units it does not know, so "N units" are the registry's schools, taken in turn (the
n-th unit is school n mod the number of schools). Every submission is distinct in content — ingest
would otherwise refuse a repeat as a duplicate — and dated within the plan year.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from duban_contracts.plan import Plan, TargetKind, load_plan
from duban_contracts.reporting_units import ReportingUnit, load_reporting_units

LoadItem = tuple[float, str, dict[str, Any]]


def load_stream(
    seed: int,
    *,
    units: int,
    rate_per_second: float,
    duration_seconds: float,
    plan: Plan | None = None,
    registry: Sequence[ReportingUnit] | None = None,
) -> Iterator[LoadItem]:
    """(seconds from the start, submission id, payload), `rate_per_second` of them for `duration_seconds`.

    The mix is what a district sends: mostly progress figures, then measurements (exercise minutes,
    class sizes) and a few minor incidents.
    """
    if units < 1 or rate_per_second <= 0 or duration_seconds < 0:
        raise ValueError("units must be at least 1, the rate positive and the duration not negative")
    plan = plan or load_plan()
    schools = [u for u in (registry or load_reporting_units().units) if u.kind == "school"]
    indicators = [p.target.id for p in plan.placed_targets() if p.target.kind is TargetKind.CUMULATIVE_COUNT]
    rng = random.Random(f"{seed}/load")
    first_day = plan.year_start
    count = int(rate_per_second * duration_seconds)
    for n in range(count):
        school = schools[(n % units) % len(schools)]
        day = first_day + timedelta(days=rng.randrange(365))
        submission_id = f"load-{seed}-{n:08d}"
        yield n / rate_per_second, submission_id, _payload(rng, n, school.name, day, indicators)


def _payload(rng: random.Random, n: int, school: str, day: date, indicators: Sequence[str]) -> dict[str, Any]:
    note = f"压测{n}"  # makes every submission's content distinct
    roll = rng.random()
    if roll < 0.6:
        return {
            "kind": "progress",
            "source": school,
            "indicator": rng.choice(indicators),
            "value": 1,
            "mode": "increment",
            "date": day.isoformat(),
            "note": note,
        }
    if roll < 0.75:
        return {
            "kind": "measurement",
            "source": school,
            "metric": "每天运动时间",
            "value": rng.randint(60, 90),
            "class": f"压测{n}班",
            "date": day.isoformat(),
        }
    if roll < 0.9:
        return {
            "kind": "measurement",
            "source": school,
            "metric": "班额",
            "value": rng.randint(38, 55),
            "class": f"压测{n}班",
            "date": day.isoformat(),
        }
    occurred = f"{day.isoformat()} {rng.randint(8, 16):02d}:{rng.randint(0, 59):02d}"
    return {
        "kind": "incident",
        "source": school,
        "category": "其他",
        "injuries": 0,
        "occurred_at": occurred,
        "reported_at": occurred,
        "summary": f"课间轻微擦伤，已处理（{note}）",
    }
