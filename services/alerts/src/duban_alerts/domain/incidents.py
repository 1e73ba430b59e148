"""Rules 1 and 2: a safety incident raises an alert at once; a late report raises another."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from duban_contracts.events import Severity

from .alert import Firing, highest
from .config import IncidentConfig, LateReportConfig, LateReportLimit
from .facts import IncidentFact
from .text import local_time, span_zh

SAFETY_INCIDENT = "safety_incident"
LATE_REPORT = "late_report"


def incident_severity(fact: IncidentFact, config: IncidentConfig) -> Severity | None:
    """The incident's severity, or None when it only counts towards a cluster (a single 传染病 case)."""
    if fact.category in config.cluster_only_categories and fact.deaths == 0 and fact.grade is None:
        return None
    severity = config.severity_by_grade[fact.grade] if fact.grade else config.ungraded
    if fact.deaths > 0:
        severity = highest(severity, config.any_death)
    poisoning = config.food_poisoning
    if fact.category in poisoning.categories and fact.cases >= poisoning.min_people:
        severity = highest(severity, poisoning.severity)
    return severity


def report_limit(fact: IncidentFact, config: LateReportConfig) -> LateReportLimit:
    """The first limit whose condition the incident meets (any of deaths, grade, category)."""
    for limit in config.limits:
        when = limit.when
        if (
            (when.min_deaths is not None and fact.deaths >= when.min_deaths)
            or (fact.grade is not None and fact.grade in when.grades)
            or fact.category in when.categories
        ):
            return limit
    return config.default


def is_late(fact: IncidentFact, limit: LateReportLimit) -> bool:
    """Exactly at the limit is on time."""
    return fact.reported_at - fact.occurred_at > limit.limit


def safety_incident(fact: IncidentFact, config: IncidentConfig, zone: ZoneInfo) -> Firing | None:
    severity = incident_severity(fact, config)
    if severity is None:
        return None
    return Firing(
        labels=_incident_labels(SAFETY_INCIDENT, fact),
        severity=severity,
        title_zh=f"{fact.unit_name}发生{fact.category.value}事件{_casualties(fact)}",
        summary_zh=_incident_summary(fact, zone),
        at=fact.known_at,
        first_seen=fact.known_at,
        last_seen=fact.known_at,
        value=float(fact.deaths),
        annotations=_annotations(fact),
        once=True,
    )


def late_report(fact: IncidentFact, config: LateReportConfig, zone: ZoneInfo) -> Firing | None:
    limit = report_limit(fact, config)
    if not is_late(fact, limit):
        return None
    delay = fact.reported_at - fact.occurred_at
    return Firing(
        labels=_incident_labels(LATE_REPORT, fact),
        severity=limit.severity,
        title_zh=f"{fact.unit_name}迟报{fact.category.value}事件（迟报{span_zh(delay - limit.limit)}）",
        summary_zh=(
            f"事发{local_time(fact.occurred_at, zone)}，报告{local_time(fact.reported_at, zone)}，"
            f"间隔{span_zh(delay)}，超过{limit.name}的报告时限{span_zh(limit.limit)}。"
        ),
        at=fact.known_at,
        first_seen=fact.known_at,
        last_seen=fact.known_at,
        value=delay.total_seconds() / 60,
        annotations={**_annotations(fact), "limit": limit.name},
        once=True,
    )


def _incident_labels(rule: str, fact: IncidentFact) -> dict[str, str]:
    return {"rule": rule, "unit_id": fact.unit_id, "incident_id": fact.fact_id, "category": fact.category.value}


def _annotations(fact: IncidentFact) -> dict[str, str]:
    notes = {"unit_name": fact.unit_name}
    if fact.class_name:
        notes["class_name"] = fact.class_name
    return notes


def _casualties(fact: IncidentFact) -> str:
    parts = [f"死亡{fact.deaths}人" if fact.deaths else "", f"受伤{fact.injuries}人" if fact.injuries else ""]
    if fact.cases:
        parts.append(f"涉及{fact.cases}人")
    shown = "，".join(part for part in parts if part)
    return f"（{shown}）" if shown else ""


def _incident_summary(fact: IncidentFact, zone: ZoneInfo) -> str:
    grade = f"，等级{fact.grade.label_zh}" if fact.grade else ""
    where = f"（{fact.class_name}）" if fact.class_name else ""
    disease = f"，病种{fact.disease}" if fact.disease else ""
    text = f"{local_time(fact.occurred_at, zone)} {fact.unit_name}{where}发生{fact.category.value}事件{grade}{disease}"
    text += f"{_casualties(fact)}。"
    return text + (fact.summary or "")
