"""Builders for the alerts domain tests (no tests here). Every builder returns a fresh object."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from duban_alerts.domain import (
    ActivityFact,
    AlertBook,
    IncidentFact,
    MeasurementFact,
    PlanTarget,
    RulesConfig,
    StatusFact,
    load_rules,
)
from duban_contracts.events import IncidentCategory, IncidentGrade, TargetStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHOOL = ("bz-ez", "巴中市第二中学")
OTHER_SCHOOL = ("bz-sz", "巴中市第三中学")


def at(text: str) -> datetime:
    """`2023-06-01 08:00` in Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def rules(**changes: Any) -> RulesConfig:
    """The bundled rules, with top-level sections replaced by `changes`."""
    return load_rules().model_copy(update=changes)


def new_book(targets: tuple[PlanTarget, ...] = (), config: RulesConfig | None = None) -> AlertBook:
    return AlertBook(config or load_rules(), targets)


def fact_id() -> str:
    return str(uuid.uuid4())


def incident(
    occurred: str = "2023-06-01 08:00",
    *,
    reported_after: timedelta = timedelta(minutes=10),
    category: IncidentCategory = IncidentCategory.DROWNING,
    grade: IncidentGrade | None = None,
    deaths: int = 0,
    injuries: int = 0,
    cases: int = 0,
    disease: str | None = None,
    class_name: str | None = None,
    unit: tuple[str, str] = SCHOOL,
    id_: str | None = None,
) -> IncidentFact:
    occurred_at = at(occurred)
    return IncidentFact(
        fact_id=id_ or fact_id(),
        occurred_at=occurred_at,
        reported_at=occurred_at + reported_after,
        unit_id=unit[0],
        unit_name=unit[1],
        category=category,
        disease=disease,
        grade=grade,
        cases=cases,
        deaths=deaths,
        injuries=injuries,
        class_name=class_name,
    )


def case(
    occurred: str,
    *,
    cases: int = 1,
    disease: str | None = "流感",
    class_name: str | None = "七年级3班",
    unit: tuple[str, str] = SCHOOL,
    reported_after: timedelta = timedelta(minutes=30),
    id_: str | None = None,
) -> IncidentFact:
    return incident(
        occurred,
        category=IncidentCategory.INFECTIOUS_DISEASE,
        cases=cases,
        disease=disease,
        class_name=class_name,
        unit=unit,
        reported_after=reported_after,
        id_=id_,
    )


def measurement(
    value: float,
    occurred: str = "2023-09-01 09:00",
    *,
    metric: str = "class_size",
    class_name: str | None = "七年级3班",
    unit: tuple[str, str] = SCHOOL,
    id_: str | None = None,
) -> MeasurementFact:
    names = {"class_size": ("班额", "人"), "daily_exercise_minutes": ("每天体育活动时间", "分钟")}
    metric_zh, measure_unit = names.get(metric, (metric, ""))
    return MeasurementFact(
        fact_id=id_ or fact_id(),
        occurred_at=at(occurred),
        unit_id=unit[0],
        unit_name=unit[1],
        metric=metric,
        metric_zh=metric_zh,
        value=value,
        measure_unit=measure_unit,
        class_name=class_name,
    )


def activity(target_id: str, occurred: str, *, id_: str | None = None) -> ActivityFact:
    return ActivityFact(
        fact_id=id_ or fact_id(),
        occurred_at=at(occurred),
        unit_id="office",
        unit_name="办公室",
        activity="活动",
        target_id=target_id,
    )


def status(
    ref: str,
    value: TargetStatus,
    occurred: str,
    *,
    completion: float = 0.5,
    actual: float | None = None,
    level: str = "target",
    id_: str | None = None,
) -> StatusFact:
    return StatusFact(
        fact_id=id_ or fact_id(),
        occurred_at=at(occurred),
        level=level,  # type: ignore[arg-type]
        ref=ref,
        title="新建中小学校舍",
        status=value,
        completion=completion,
        expected=0.6,
        actual=actual,
        task=7,
        section="二",
    )


def dated_event(
    target_id: str = "t24_safety_day", due: date = date(2023, 4, 15), start: date | None = None
) -> PlanTarget:
    return PlanTarget(
        target_id=target_id, title_zh="全民国家安全教育日活动", kind="dated_event", due=due, start=start, task=24
    )


def periodic(target_id: str = "t04_ideology_meeting_quarterly", every: str = "quarter") -> PlanTarget:
    return PlanTarget(
        target_id=target_id,
        title_zh="意识形态分析研判专题会",
        kind="periodic",
        due=date(2023, 12, 31),
        every=every,  # type: ignore[arg-type]
        task=4,
        responsible=("办公室",),
    )
