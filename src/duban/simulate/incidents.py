"""Incidents, with their seasons: influenza and norovirus in winter and spring, hand-foot-mouth in
kindergartens in late spring, drowning in summer, a canteen food poisoning after the autumn term
starts, a traffic accident, the odd fire, fight and bullying case — and a few reported late.

The outbreaks are written to meet the rules of 学校和托幼机构传染病疫情报告工作规范 (3 cases in one
class within a day) and of the disease criteria in the alert rules (influenza 10 and 20 cases in a
school within a week); every report carries the time it was made, so its delay is judged in event
time (1 hour with casualties, 2 hours for public-health events, 24 hours otherwise).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta

from duban_contracts.plan import Plan

from .calendar import is_workday, local
from .drafts import Draft, Incident
from .roster import Reporter, Roster

Pick = Callable[[Reporter], bool]


def plan_incidents(seed: int, plan: Plan, roster: Roster) -> list[Draft]:
    rng = random.Random(f"{seed}/incidents")
    year = plan.year
    schools = roster.reporting_schools
    episodes: Sequence[Callable[[random.Random, int, Sequence[Reporter]], Iterator[tuple[Reporter, Incident]]]] = (
        _influenza_in_a_class,
        _influenza_outbreak,
        _norovirus_outbreak,
        _hand_foot_mouth,
        _sporadic_cases,
        _drowning_death,
        _drowning_rescued,
        _traffic_accident,
        _food_poisoning,
        _bullying,
        _kitchen_fire,
        _carbon_monoxide,
        _rainstorm,
        _fight,
        _fall,
    )
    drafts = []
    for episode in episodes:
        for reporter, incident in episode(rng, year, schools):
            fields = incident.fields()
            drafts.append(
                Draft(incident.reported_at, reporter, "incident", fields, "incident", str(incident.occurred_at))
            )
    return drafts


# --- infectious disease ---------------------------------------------------------------------------


def _influenza_in_a_class(
    rng: random.Random, year: int, schools: Sequence[Reporter]
) -> Iterator[tuple[Reporter, Incident]]:
    """Three pupils of one class with influenza at the morning check: a cluster by the 2006 rule."""
    school = _pick(rng, schools, lambda s: s.unit.stage == "小学")
    day = _school_day(rng, date(year, 2, 20), date(year, 3, 17))
    yield school, _cases(rng, day, "流感", 3, cls="三年级2班", summary="晨检发现发热、咳嗽学生3名，已通知家长带回就医")
    yield school, _cases(rng, _next_school_day(day), "流感", 1, cls="三年级4班", summary="晨检发现发热学生1名")


def _influenza_outbreak(
    rng: random.Random, year: int, schools: Sequence[Reporter]
) -> Iterator[tuple[Reporter, Incident]]:
    """A winter outbreak across a junior school: past 20 cases in a week (the second band)."""
    school = _pick(rng, schools, lambda s: s.unit.stage in ("初中", "九年一贯制"))
    day = _school_day(rng, date(year, 12, 4), date(year, 12, 11))
    classes = ("七年级1班", "七年级3班", "八年级2班", "八年级5班", "九年级1班")
    for daily in (4, 6, 7, 5, 2):
        first = rng.randint(1, daily - 1) if daily > 1 else daily
        for part, cls in ((first, rng.choice(classes)), (daily - first, rng.choice(classes))):
            if part:
                yield school, _cases(rng, day, "流感", part, cls=cls, summary=f"晨检及午检新发现流感样病例{part}例")
        day = _next_school_day(day)


def _norovirus_outbreak(
    rng: random.Random, year: int, schools: Sequence[Reporter]
) -> Iterator[tuple[Reporter, Incident]]:
    """Vomiting and diarrhoea spreading through a primary school in early spring."""
    school = _pick(rng, schools, lambda s: s.unit.stage in ("小学", "幼儿园"))
    day = _school_day(rng, date(year, 3, 6), date(year, 3, 24))
    for daily, cls in ((5, "一年级2班"), (4, "一年级3班"), (3, "二年级1班")):
        yield school, _cases(rng, day, "诺如病毒", daily, cls=cls, summary="学生出现呕吐、腹泻症状，已隔离并消毒")
        day = _next_school_day(day)


def _hand_foot_mouth(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.unit.stage == "幼儿园")
    day = _school_day(rng, date(year, 4, 17), date(year, 6, 2))
    yield school, _cases(rng, day, "手足口病", 1, cls="中二班", summary="幼儿手、口部出现疱疹，已居家隔离")
    yield (
        school,
        _cases(rng, _next_school_day(_next_school_day(day)), "手足口病", 1, cls="中二班", summary="同班又发现1例"),
    )


def _sporadic_cases(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    for disease, first, last, stage in (
        ("水痘", date(year, 3, 1), date(year, 3, 31), "小学"),
        ("流行性腮腺炎", date(year, 4, 10), date(year, 5, 26), "初中"),
        ("肺结核", date(year, 10, 9), date(year, 10, 31), "高中"),
    ):
        school = _pick(rng, schools, _of_stage(stage))
        yield (
            school,
            _cases(
                rng, _school_day(rng, first, last), disease, 1, cls=None, summary="散发病例，已按要求报告并落实防控措施"
            ),
        )


def _cases(rng: random.Random, day: date, disease: str, cases: int, *, cls: str | None, summary: str) -> Incident:
    occurred = local(day, 8, rng.randint(0, 40))
    reported = occurred + timedelta(minutes=rng.randint(30, 105))
    return Incident("传染病", occurred, reported, cases=cases, disease=disease, class_name=cls, summary=summary)


# --- safety ---------------------------------------------------------------------------------------


def _drowning_death(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.unit.stage in ("初中", "九年一贯制") and not s.urban)
    day = _weekend(rng, date(year, 7, 8), date(year, 7, 30))
    occurred = local(day, rng.randint(15, 17), rng.randint(0, 59))
    yield (
        school,
        Incident(
            "溺水",
            occurred,
            occurred + timedelta(minutes=rng.randint(35, 55)),
            deaths=1,
            grade="IV",
            class_name="八年级3班",
            summary="学生周末私自到河边游泳溺水，经抢救无效死亡。已启动应急预案，开展善后工作。",
        ),
    )


def _drowning_rescued(
    rng: random.Random, year: int, schools: Sequence[Reporter]
) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.unit.stage in ("小学", "九年一贯制") and not s.urban)
    day = _weekend(rng, date(year, 8, 5), date(year, 8, 27))
    occurred = local(day, rng.randint(14, 17), rng.randint(0, 59))
    yield (
        school,
        Incident(
            "溺水",
            occurred,
            occurred + timedelta(minutes=rng.randint(40, 58)),
            injuries=1,
            summary="学生在堰塘边玩耍落水，被村民救起送医，无生命危险。",
        ),
    )


def _traffic_accident(
    rng: random.Random, year: int, schools: Sequence[Reporter]
) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.urban)
    day = _school_day(rng, date(year, 10, 9), date(year, 11, 24))
    occurred = local(day, 17, rng.randint(10, 40))
    yield (
        school,
        Incident(
            "交通",
            occurred,
            occurred + timedelta(minutes=rng.randint(40, 90)),
            injuries=rng.randint(1, 2),
            grade="IV",
            summary="放学途中学生被摩托车撞伤，已送医治疗，交警已介入。",
        ),
    )


def _food_poisoning(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    """Reported three hours after the first symptoms: past the 2-hour limit for public-health events."""
    school = _pick(rng, schools, lambda s: s.unit.stage in ("九年一贯制", "初中") and not s.urban)
    day = _school_day(rng, date(year, 9, 11), date(year, 9, 28))
    occurred = local(day, 13, rng.randint(20, 59))
    cases = rng.randint(6, 11)
    yield (
        school,
        Incident(
            "食品安全",
            occurred,
            occurred + timedelta(minutes=rng.randint(140, 220)),
            cases=cases,
            summary=f"午餐后{cases}名学生出现呕吐、腹痛症状，已送医并封存留样，市场监管部门已介入。",
        ),
    )


def _bullying(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.unit.stage in ("初中", "小学"))
    day = _school_day(rng, date(year, 4, 10), date(year, 4, 28))
    occurred = local(day, 12, rng.randint(10, 50))
    yield (
        school,
        Incident(
            "欺凌",
            occurred,
            occurred + timedelta(hours=rng.randint(3, 8)),
            injuries=0,
            summary="学生反映被同学多次索要财物",
        ),
    )
    late_school = _pick(rng, schools, lambda s: s.unit.stage in ("初中", "九年一贯制"))
    day = _school_day(rng, date(year, 11, 6), date(year, 11, 24))
    occurred = local(day, 12, rng.randint(10, 50))
    yield (
        late_school,
        Incident(
            "欺凌",
            occurred,
            occurred + timedelta(hours=rng.randint(30, 50)),
            injuries=1,
            summary="家长反映学生在宿舍被同学殴打，学校核实后补报。联系人：王老师13812345678",
        ),
    )


def _kitchen_fire(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: True)
    day = _school_day(rng, date(year, 1, 3), date(year, 1, 12))
    occurred = local(day, 10, rng.randint(20, 50))
    yield (
        school,
        Incident(
            "火灾",
            occurred,
            occurred + timedelta(minutes=rng.randint(40, 70)),
            summary="食堂灶台起火，已及时扑灭，无人员伤亡",
        ),
    )


def _carbon_monoxide(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: not s.urban)
    day = _school_day(rng, date(year, 12, 11), date(year, 12, 22))
    occurred = local(day, 6, rng.randint(20, 50))
    yield (
        school,
        Incident(
            "一氧化碳中毒",
            occurred,
            occurred + timedelta(minutes=rng.randint(80, 110)),
            injuries=2,
            summary="教师周转房使用炭火取暖，2人轻度中毒，已送医",
        ),
    )


def _rainstorm(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: not s.urban)
    day = date(year, 7, rng.randint(10, 25))
    occurred = local(day, rng.randint(3, 6), rng.randint(0, 59))
    yield (
        school,
        Incident(
            "自然灾害",
            occurred,
            occurred + timedelta(hours=rng.randint(2, 4)),
            summary="强降雨致学校围墙局部垮塌、操场积水，暑期无学生在校，无人员伤亡",
        ),
    )


def _fight(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.unit.stage in ("高中", "中职", "初中"))
    day = _school_day(rng, date(year, 10, 9), date(year, 10, 31))
    occurred = local(day, 16, rng.randint(10, 40))
    yield (
        school,
        Incident(
            "暴力伤害",
            occurred,
            occurred + timedelta(minutes=rng.randint(90, 180)),
            injuries=1,
            summary="两名学生发生肢体冲突，一人面部受伤，已送医并通知家长",
        ),
    )


def _fall(rng: random.Random, year: int, schools: Sequence[Reporter]) -> Iterator[tuple[Reporter, Incident]]:
    school = _pick(rng, schools, lambda s: s.unit.stage == "小学")
    day = _school_day(rng, date(year, 5, 8), date(year, 5, 26))
    occurred = local(day, 10, rng.randint(0, 30))
    yield (
        school,
        Incident(
            "其他",
            occurred,
            occurred + timedelta(minutes=rng.randint(60, 120)),
            injuries=1,
            summary="课间在楼梯摔倒致手臂骨折",
        ),
    )


# --- helpers --------------------------------------------------------------------------------------


def _of_stage(stage: str) -> Pick:
    return lambda school: school.unit.stage == stage


def _pick(rng: random.Random, schools: Sequence[Reporter], fits: Pick) -> Reporter:
    fitting = [s for s in schools if fits(s)] or list(schools)
    return rng.choice(fitting)


def _school_day(rng: random.Random, first: date, last: date) -> date:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    working = [d for d in days if is_workday(d)] or days
    return rng.choice(working)


def _next_school_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def _weekend(rng: random.Random, first: date, last: date) -> date:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return rng.choice([d for d in days if d.weekday() >= 5] or days)
