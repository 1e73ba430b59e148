"""信访 cases and 12345 work orders through the year (task 25 of the plan), as the offices record them.

Each case is a handful of `case` submissions — 登记, 受理, (延期), 办结, 回访 with a rating, 化解 — sent
by the section handling it on the day each step happens. The year has cases on every channel, and
the situations the clocks exist for: most concluded in time; some accepted late (past the 15 days
of 信访工作条例 第二十三条); some extended once (第三十四条) and concluded within the extension; some
concluded late, some forwarded away (转送); some not revisited in time; work orders received just
before a long holiday (2023-09-28 before 中秋/国庆, 2023-01-19 before 春节), their working days
counted across it; and cases still open at the year's end.

Working days come from `duban_alerts.domain.workdays` (chinese-calendar), so a work order planned
"on time" is on time by the same calendar the alerts service counts with.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from duban_alerts.domain.workdays import WorkCalendar

from .calendar import is_workday, local, office_time, workday_on_or_after
from .model import VALID, Expected, Submission
from .roster import Reporter, Roster

#: Who handles what: 信访 matters go to the section that owns the matter; the 信访办 (安全稳定股) keeps the rest.
_HANDLERS: dict[str, str] = {
    "招生入学": "招生考试办公室",
    "学校收费": "计划财务股",
    "校外培训": "校外培训监管股",
    "教师待遇": "组织人事股",
    "校园安全": "安全稳定股",
    "学生资助": "资助中心",
    "教学管理": "基础教育股",
}
_LETTER_CHANNELS = ("来信", "来访", "网上信访", "上级交办")
_HOTLINE_CATEGORIES = (("咨询", 3), ("求助", 7), ("意见建议", 7), ("投诉举报", 15))
_RATINGS = (("满意", 0.78), ("基本满意", 0.14), ("不满意", 0.08))

#: How a case's year goes, with its share among 信访 cases.
_LETTER_FATES = (
    ("on_time", 0.62),
    ("accepted_late", 0.06),
    ("extended", 0.1),
    ("late", 0.08),
    ("forwarded", 0.06),
    ("revisit_late", 0.08),
)
_FORCED_LETTER_FATES = ("accepted_late", "extended", "late", "forwarded", "revisit_late", "extended")
_HOTLINE_FATES = (("on_time", 0.8), ("extended", 0.06), ("late", 0.14))


@dataclass(frozen=True)
class _Step:
    at: datetime
    action: str
    extra: dict[str, object]


def plan_cases(seed: int, year: int, roster: Roster, *, letters: int = 28, work_orders: int = 36) -> list[Submission]:
    """The year's cases as submissions, in the order they are sent."""
    rng = random.Random(f"{seed}/cases")
    calendar = WorkCalendar()
    sent: list[Submission] = []
    for number in range(1, letters + 1):
        channel = _LETTER_CHANNELS[(number - 1) % len(_LETTER_CHANNELS)]  # every channel, evenly
        category = rng.choice(sorted(_HANDLERS))
        # The first few go each way for sure (and early enough to finish within the year); the rest by chance.
        forced = _FORCED_LETTER_FATES[number - 1] if number <= len(_FORCED_LETTER_FATES) else None
        received = _received_day(rng, year, within=240 if forced else 350)
        fate = forced or _weighted(rng, _LETTER_FATES)
        handler = roster.section(_HANDLERS[category])
        case_id = f"XF{year}{number:04d}"
        steps = list(_letter_steps(rng, calendar, received, fate, year))
        sent.extend(_submissions(case_id, channel, category, handler, steps, limit=None))
    for number in range(1, work_orders + 1):
        category, limit = rng.choice(_HOTLINE_CATEGORIES)
        received = _received_day(rng, year)
        fate = _weighted(rng, _HOTLINE_FATES)
        handler = roster.section(_HANDLERS[rng.choice(sorted(_HANDLERS))])
        steps = list(_hotline_steps(rng, calendar, received, limit, fate=fate, year=year))
        sent.extend(_submissions(f"GD{year}{number:05d}", "12345", category, handler, steps, limit=None))
    sent.extend(_before_holidays(rng, calendar, year, roster))
    return sorted(sent, key=lambda s: (s.at, s.submission_id))


def _before_holidays(rng: random.Random, calendar: WorkCalendar, year: int, roster: Roster) -> Iterator[Submission]:
    """Work orders received on the last working afternoon before 春节 and 国庆: one in time, one late."""
    if year != 2023:
        return
    handler = roster.section("安全稳定股")
    for n, (received, on_time) in enumerate(
        ((date(2023, 1, 20), True), (date(2023, 9, 28), True), (date(2023, 9, 28), False))
    ):
        due = calendar.add_working_days(received, 3)
        concluded = due if on_time else calendar.add_working_days(due, 2)
        steps = [
            _Step(_at(received, 16, 10 + n), "received", {}),
            _Step(_at(concluded, 10, 5), "concluded", {}),
            _Step(_at(calendar.add_working_days(concluded, 2), 15, 0), "revisited", {"satisfaction": "满意"}),
        ]
        yield from _submissions(f"GD{year}H{n + 1:02d}", "12345", "咨询", handler, steps, limit=3)


def _letter_steps(rng: random.Random, calendar: WorkCalendar, received: date, fate: str, year: int) -> Iterator[_Step]:
    yield _Step(office_time(rng, received), "received", {})
    decided = received + timedelta(days=rng.randint(18, 24) if fate == "accepted_late" else rng.randint(1, 12))
    decided = workday_on_or_after(decided)
    if fate == "forwarded":
        yield _Step(
            office_time(rng, decided),
            "forwarded",
            {"forwarded_to": "巴中市人力资源和社会保障局", "reason": "不属本机关职权范围"},
        )
        return
    yield _Step(office_time(rng, decided), "accepted", {})
    due = calendar.add_days(decided, 60)
    if fate == "extended":
        asked = workday_on_or_after(due - timedelta(days=rng.randint(3, 10)))
        yield _Step(office_time(rng, asked), "extended", {"extension_days": 30, "reason": "情况复杂，需多部门会商"})
        concluded = workday_on_or_after(due + timedelta(days=rng.randint(5, 25)))
    elif fate == "late":
        concluded = workday_on_or_after(due + timedelta(days=rng.randint(3, 20)))
    else:
        concluded = workday_on_or_after(decided + timedelta(days=rng.randint(10, 55)))
    yield from _after_conclusion(rng, calendar, concluded, year, revisit_late=fate == "revisit_late")


def _hotline_steps(
    rng: random.Random, calendar: WorkCalendar, received: date, limit: int, *, fate: str, year: int
) -> Iterator[_Step]:
    yield _Step(office_time(rng, received), "received", {})
    due = calendar.add_working_days(received, limit)
    if fate == "extended":
        asked = calendar.subtract_working_days(due, 1)
        yield _Step(office_time(rng, asked), "extended", {"extension_days": 5, "reason": "需现场核实"})
        concluded = calendar.add_working_days(due, rng.randint(1, 5))
    elif fate == "late":
        concluded = calendar.add_working_days(due, rng.randint(1, 6))
    else:
        concluded = calendar.add_working_days(received, rng.randint(1, limit))
    yield from _after_conclusion(rng, calendar, concluded, year, revisit_late=False)


def _after_conclusion(
    rng: random.Random, calendar: WorkCalendar, concluded: date, year: int, *, revisit_late: bool
) -> Iterator[_Step]:
    if concluded.year != year:
        return  # still open at the year's end
    yield _Step(office_time(rng, concluded), "concluded", {})
    revisit = concluded + timedelta(days=rng.randint(20, 30) if revisit_late else rng.randint(2, 12))
    revisit = workday_on_or_after(revisit)
    if revisit.year != year:
        return
    rating = _weighted(rng, _RATINGS)
    yield _Step(office_time(rng, revisit), "revisited", {"satisfaction": rating})
    if rating != "不满意" and rng.random() < 0.75:
        resolved = calendar.add_working_days(revisit, rng.randint(1, 10))
        if resolved.year == year:
            yield _Step(office_time(rng, resolved), "resolved", {})


def _submissions(
    case_id: str, channel: str, category: str, handler: Reporter, steps: Sequence[_Step], *, limit: int | None
) -> Iterator[Submission]:
    for n, step in enumerate(steps, start=1):
        body: dict[str, object] = {
            "kind": "case",
            "source": handler.style.source,
            "case_id": case_id,
            "channel": channel,
            "action": step.action,
            "at": step.at.isoformat(timespec="minutes"),
            "category": category,
            "submitted_at": step.at.isoformat(timespec="seconds"),
            **step.extra,
        }
        if limit is not None and step.action == "received":
            body["limit_working_days"] = limit
        payload = json.dumps(body, ensure_ascii=False).encode()
        expected = Expected("case", handler.id, case_id)
        yield Submission(step.at, f"{case_id}-{n:02d}-{step.action}", payload, VALID, expected)


def _received_day(rng: random.Random, year: int, within: int = 350) -> date:
    day = date(year, 1, 3) + timedelta(days=rng.randrange(0, within))
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def _weighted(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    names = [name for name, _ in choices]
    return rng.choices(names, weights=[weight for _, weight in choices])[0]


def _at(day: date, hour: int, minute: int) -> datetime:
    return local(day, hour, minute)
