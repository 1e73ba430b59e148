"""Measurements: the class sizes every school counts at the start of the autumn term, and the monthly
report of daily exercise minutes (in the summer holidays, the month's safety work instead).

Most classes hold 36–55 pupils; a handful of crowded classes in the central townships hold 56–70
(大班额, one 超大班额), and two of them are split in October and measured again. Schools average an
hour and more of exercise a day, but now and then a month falls short (exam weeks, rain).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from duban_contracts.plan import Plan

from .activities import summer_activity
from .calendar import local, month_end, office_time, workday_on_or_after
from .drafts import Draft
from .roster import Reporter, Roster, monthly_filing_day

CLASS_SIZE = "class_size"
DAILY_EXERCISE = "daily_exercise_minutes"
_SUMMER_MONTHS = frozenset({7, 8})
_GRADES = {
    "小学": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "初中": ("七年级", "八年级", "九年级"),
    "九年一贯制": ("三年级", "五年级", "七年级", "八年级", "九年级"),
    "高中": ("高一", "高二", "高三"),
    "中职": ("2023级", "2022级", "2021级"),
}
_TRADES = ("机电", "计算机", "幼师", "汽修")
#: Crowded classes: how many, and the sizes they are drawn from (one 超大班额 of 66+).
_CROWDED_SIZES = ((56, 59), (56, 60), (57, 62), (61, 65), (66, 70))


def school_monthly_reports(seed: int, plan: Plan, roster: Roster) -> Iterator[Draft]:
    """Each school's monthly report: average daily exercise minutes, or its summer safety work."""
    rng = random.Random(f"{seed}/exercise")
    year = plan.year
    short_months = 0
    for school in roster.reporting_schools:
        base = rng.uniform(110, 150) if school.unit.stage == "幼儿园" else rng.uniform(64, 86)
        for month in range(1, 13):
            filed = monthly_filing_day(rng, school.habit, year, month)
            if filed is None:
                continue
            day = month_end(year, month) if month < 12 else filed
            if month in _SUMMER_MONTHS:
                yield summer_activity(rng, school, filed, day)
                continue
            minutes = _minutes(rng, school, base, month)
            short_months += minutes < 60
            yield _measured(office_time(rng, filed), school, DAILY_EXERCISE, minutes, day=day, topic="exercise")
    if short_months == 0:  # every plausible year has at least one school falling short
        school = roster.reporting_schools[0]
        filed = date(year, 6, 5)
        yield _measured(office_time(rng, filed), school, DAILY_EXERCISE, 52, day=date(year, 6, 2), topic="exercise")


def _minutes(rng: random.Random, school: Reporter, base: float, month: int) -> int:
    if rng.random() < 0.012:
        return rng.randint(42, 58)
    exam_season = month == 6 and school.unit.stage in ("初中", "九年一贯制", "高中")
    return round(base + rng.uniform(-5, 5) - (8 if exam_season else 0))


def class_size_reports(seed: int, plan: Plan, roster: Roster) -> list[Draft]:
    """September's class counts (one draft per class) and October's recounts of split classes."""
    rng = random.Random(f"{seed}/class_size")
    year = plan.year
    schools = [s for s in roster.reporting_schools if s.has_classes]
    crowded_schools = [s for s in schools if s.urban]
    crowded: dict[str, list[int]] = defaultdict(list)
    for sizes in _CROWDED_SIZES:
        crowded[rng.choice(crowded_schools).id].append(rng.randint(*sizes))
    drafts: list[Draft] = []
    counted: list[tuple[Reporter, str, int]] = []
    for school in schools:
        measured = workday_on_or_after(date(year, 9, 1) + timedelta(days=rng.randint(0, 6)))
        filed = measured if rng.random() < 0.4 else workday_on_or_after(measured + timedelta(days=rng.randint(1, 3)))
        at = local(filed, 16, rng.randint(0, 50)) if filed == measured else office_time(rng, filed)
        names = _class_names(rng, school)
        big = crowded.get(school.id, [])
        for index, name in enumerate(names):
            size = big[index] if index < len(big) else _ordinary_size(rng, school)
            drafts.append(_measured(at, school, CLASS_SIZE, size, day=measured, class_name=name))
            at += timedelta(minutes=rng.randint(0, 1))
            if size > 55:
                counted.append((school, name, size))
    for school, name, _size in rng.sample(counted, k=min(2, len(counted))):
        recount = workday_on_or_after(date(year, 10, rng.randint(9, 20)))
        at = office_time(rng, recount)
        size = rng.randint(40, 48)
        drafts.append(_measured(at, school, CLASS_SIZE, size, day=recount, class_name=name, note="分班后重新统计"))
    return drafts


def _class_names(rng: random.Random, school: Reporter) -> list[str]:
    stage = school.unit.stage or "小学"
    grades = _GRADES.get(stage, _GRADES["小学"])
    count = rng.randint(4, 8)
    names: list[str] = []
    while len(names) < count:
        grade = rng.choice(grades)
        number = rng.randint(1, 6)
        if stage == "高中":
            name = f"{grade}({number})班" if rng.random() < 0.5 else f"{grade}{number}班"
        elif stage == "中职":
            name = f"{grade}{rng.choice(_TRADES)}{number}班"
        else:
            name = f"{grade}{number}班"
        if name not in names:
            names.append(name)
    return names


def _ordinary_size(rng: random.Random, school: Reporter) -> int:
    if school.urban:
        return max(40, min(55, round(rng.gauss(50, 3.5))))
    return max(24, min(55, round(rng.gauss(42, 6))))


def _measured(
    at: datetime,
    school: Reporter,
    metric: str,
    value: int,
    *,
    day: date,
    class_name: str | None = None,
    note: str | None = None,
    topic: str = "class_size",
) -> Draft:
    fields: dict[str, object] = {"metric": metric, "value": value, "date": day}
    if class_name:
        fields["class"] = class_name
    if note:
        fields["note"] = note
    return Draft(at, school, "measurement", fields, topic=topic, key=class_name or metric)
