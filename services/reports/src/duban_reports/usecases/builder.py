"""Fill a report's content from the reports service's own tables, as of one instant.

Every figure is a query over facts with event time at or before `as_of` — so a report rendered
late shows the same figures as one rendered on time, and the same events always give the same
report. Counting and grouping happen in the database.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.casework import summary_of
from duban_contracts.events import CaseSummarised, IncidentCategory, IncidentGrade, Severity, TargetStatus
from duban_contracts.plan import Plan, TargetKind
from duban_contracts.reporting_units import ReportingUnit
from duban_kit.db import Database

from ..adapters import tables as t
from ..adapters.submission_counts import counted
from ..domain.casework import CaseworkSection, CaseworkTargets, casework_section, load_casework_targets
from ..domain.content import (
    AlertFigures,
    Headline,
    IncidentItem,
    OutbreakItem,
    OutbreakStatus,
    PlanInfo,
    ProgressPoint,
    ReportData,
    SafetySummary,
    SectionProgress,
    SignOffFigures,
    Tally,
    TargetRow,
    TaskProgress,
    Trends,
    UnitReporting,
)
from ..domain.data_quality import DataQualitySection, QualityFinding, data_quality_section
from ..domain.periods import REPORT_TZ, Period, local_date, local_midnight
from ..domain.submission_counts import day_span, upper_bound

EPSILON = timedelta(microseconds=1)
OUTBREAK_RULE = "infectious_cluster"
#: The alerts service's limit rules (rules.yaml, `limits`) that watch the plan's constraints, one alert
#: per class or school breaking it: their open alerts name who breaks the rule.
BREACH_ALERT_RULES = {"t10_class_size_max": "class_size", "t35_daily_exercise_min": "daily_exercise"}


def figures_instant(period: Period, now: datetime | None) -> datetime:
    """The last instant of the period, or `now` if the period has not ended yet."""
    last = period.end - EPSILON
    return last if now is None else min(last, now)


def month_starts(first: date, last: date) -> list[date]:
    months, day = [], date(first.year, first.month, 1)
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


class ReportBuilder:
    def __init__(
        self,
        db: Database,
        plan: Plan,
        units: Sequence[ReportingUnit],
        *,
        deadline_days: int = 5,
        casework_targets: CaseworkTargets | None = None,
    ) -> None:
        self.casework_targets = casework_targets or load_casework_targets()
        self.db = db
        self.plan = plan
        self.units = [u for u in units if u.kind != "external"]
        self.deadline_days = deadline_days

    async def build(self, period: Period, as_of: datetime) -> ReportData:
        async with self.db.read() as conn:
            statuses = await self._statuses(conn, as_of)
            targets = self._target_rows(
                statuses, await self._breaches(conn, as_of), await self._reached_on(conn, statuses, as_of)
            )
            sections = self._sections(statuses)
            safety = await self._safety(conn, period, as_of)
            headline = await self._headline(conn, period, as_of, statuses, safety)
            reporting = await self._reporting(conn, as_of)
            trends = Trends(
                progress=await self._progress_trend(conn, as_of),
                incidents_by_month=await self._incidents_by_month(conn, as_of),
            )
            casework = await self._casework(conn, period, as_of)
            data_quality = await self._data_quality(conn, period, as_of)
            signoff = await self._signoff(conn, as_of)
        return ReportData(
            period=period,
            as_of=as_of,
            plan=PlanInfo(title=self.plan.title, issuer=self.plan.issuer, year=self.plan.year),
            headline=headline,
            sections=sections,
            targets=targets,
            safety=safety,
            reporting=reporting,
            trends=trends,
            casework=casework,
            data_quality=data_quality,
            signoff=signoff,
        )

    async def _signoff(self, conn: AsyncConnection, as_of: datetime) -> SignOffFigures | None:
        """销号: each target's latest sign-off step at `as_of`, counted by state."""
        s = t.signoffs
        ranked = (
            select(
                s.c.state,
                s.c.self_reported,
                s.c.approved,
                func.row_number()
                .over(partition_by=s.c.target_id, order_by=(s.c.occurred_at.desc(), s.c.steps.desc()))
                .label("rank"),
            )
            .where(s.c.occurred_at <= as_of)
            .subquery()
        )
        rows = list(await conn.execute(select(ranked).where(ranked.c.rank == 1)))
        if not rows:
            return None
        states = [row.state for row in rows]
        below = sum(
            1
            for row in rows
            if row.state == "approved" and row.approved is not None and (row.self_reported or 0) > row.approved
        )
        return SignOffFigures(states.count("approved"), states.count("pending"), states.count("returned"), below)

    async def _data_quality(self, conn: AsyncConnection, period: Period, as_of: datetime) -> DataQualitySection | None:
        """数据质量: how many progress reports and measurements each unit sent in the period (counted in
        SQL), and the `data_quality` findings on those reports (only the flagged ones are looked up)."""
        f = t.submission_facts
        kinds = ("progress", "measurement")
        in_period = (
            f.c.status == "accepted",
            f.c.kind.in_(kinds),
            f.c.occurred_at >= period.start,
            f.c.occurred_at < period.end,
            f.c.occurred_at <= as_of,
            f.c.unit_id.is_not(None),
        )
        end, inclusive = upper_bound(period.end, as_of)
        span = day_span(period.start, end, end_inclusive=inclusive)
        by_unit = await counted(conn, "occurred", span, "unit_id", statuses=("accepted",), kinds=kinds)
        reports = [(unit_id, name or unit_id, n) for unit_id, (n, name) in sorted(by_unit.items()) if unit_id]
        if not reports:
            return None
        a = t.alert_facts
        alerts = await conn.execute(
            select(a.c.unit_id, a.c.severity, a.c.labels).where(a.c.rule == "data_quality", a.c.opened_at <= as_of)
        )
        candidates = []
        for row in alerts:
            labels = json.loads(row.labels)
            if "fact_id" in labels and row.unit_id:
                candidates.append(QualityFinding(row.unit_id, labels["fact_id"], labels.get("check", ""), row.severity))
        reported: set[tuple[str, str]] = set()
        fact_ids = sorted({finding.fact_id for finding in candidates})
        for chunk in (fact_ids[n : n + 500] for n in range(0, len(fact_ids), 500)):
            rows = await conn.execute(select(f.c.unit_id, f.c.event_id).where(*in_period, f.c.event_id.in_(chunk)))
            reported.update((unit_id, event_id) for unit_id, event_id in rows)
        return data_quality_section(reports, [c for c in candidates if (c.unit_id, c.fact_id) in reported])

    async def _casework(self, conn: AsyncConnection, period: Period, as_of: datetime) -> CaseworkSection | None:
        """信访维稳: each case's latest summary at `as_of`, and the rates over them."""
        s = t.case_summaries
        ranked = (
            select(
                s.c.data,
                func.row_number()
                .over(
                    partition_by=s.c.case_id,
                    order_by=(s.c.occurred_at.desc(), s.c.actions.desc(), s.c.event_id.desc()),
                )
                .label("rank"),
            )
            .where(s.c.occurred_at <= as_of)
            .subquery()
        )
        rows = await conn.execute(select(ranked.c.data).where(ranked.c.rank == 1))
        cases = [summary_of(CaseSummarised.model_validate_json(row.data)) for row in rows]
        if not cases:
            return None
        last = min(period.last_day, local_date(as_of))
        return casework_section(cases, period.first_day, period.last_day, last, self.casework_targets)

    # --- the plan ---------------------------------------------------------------------------

    async def _statuses(self, conn: AsyncConnection, as_of: datetime) -> dict[tuple[str, str], dict[str, Any]]:
        """Each target's, task's, section's and the plan's last published state at `as_of`."""
        h = t.status_history
        ranked = (
            select(
                h.c.level,
                h.c.ref,
                h.c.status,
                h.c.completion,
                h.c.expected,
                h.c.actual,
                func.row_number()
                .over(
                    partition_by=(h.c.level, h.c.ref),
                    order_by=(h.c.occurred_at.desc(), h.c.revision.desc(), h.c.event_id.desc()),
                )
                .label("rank"),
            )
            .where(h.c.occurred_at <= as_of)
            .subquery()
        )
        rows = await conn.execute(select(ranked).where(ranked.c.rank == 1))
        return {(r.level, r.ref): dict(r._mapping) for r in rows}

    async def _breaches(self, conn: AsyncConnection, as_of: datetime) -> dict[str, tuple[str, ...]]:
        """Who breaks each constraint at `as_of`: the classes or schools its limit alerts are open for."""
        a = t.alert_facts
        query = (
            select(a.c.rule, a.c.labels)
            .where(
                a.c.rule.in_(list(BREACH_ALERT_RULES.values())),
                a.c.opened_at <= as_of,
                or_(a.c.resolved_at.is_(None), a.c.resolved_at > as_of),
            )
            .order_by(a.c.opened_at, a.c.alert_id)
        )
        names = {u.id: u.name for u in self.units}
        targets = {rule: target_id for target_id, rule in BREACH_ALERT_RULES.items()}
        found: dict[str, list[str]] = {}
        for rule, labels_text in await conn.execute(query):
            labels = json.loads(labels_text)
            where = names.get(labels.get("unit_id", ""), labels.get("unit_id", "")) + labels.get("class_name", "")
            found.setdefault(targets[rule], []).append(where)
        return {target_id: tuple(dict.fromkeys(places)) for target_id, places in found.items()}

    async def _reached_on(
        self, conn: AsyncConnection, statuses: dict[tuple[str, str], dict[str, Any]], as_of: datetime
    ) -> dict[str, date]:
        """When each level target that stands reached was first judged so (已达成 is said with its date)."""
        reached = [
            p.target.id
            for p in self.plan.placed_targets()
            if p.target.kind is TargetKind.LEVEL
            and (state := statuses.get(("target", p.target.id)))
            and state["status"] == TargetStatus.DONE.value
        ]
        if not reached:
            return {}
        h = t.status_history
        query = (
            select(h.c.ref, func.min(h.c.occurred_at))
            .where(h.c.level == "target", h.c.ref.in_(reached), h.c.status == TargetStatus.DONE.value)
            .where(h.c.occurred_at <= as_of)
            .group_by(h.c.ref)
        )
        return {ref: local_date(at) for ref, at in await conn.execute(query) if at is not None}

    def _target_rows(
        self,
        statuses: dict[tuple[str, str], dict[str, Any]],
        breaches: dict[str, tuple[str, ...]],
        reached_on: dict[str, date],
    ) -> tuple[TargetRow, ...]:
        rows = []
        for placed in self.plan.placed_targets():
            target = placed.target
            state = statuses.get(("target", target.id))
            rows.append(
                TargetRow(
                    section_no=placed.section.no,
                    section_title=placed.section.title,
                    task_no=placed.task.no,
                    task_title=placed.task.title,
                    target_id=target.id,
                    text=target.text,
                    metric=target.metric,
                    target_value=target.value,
                    unit=target.unit,
                    status=TargetStatus(state["status"]) if state else TargetStatus.NOT_STARTED,
                    due=placed.due,
                    actual=state["actual"] if state else None,
                    completion=state["completion"] if state else None,
                    expected=state["expected"] if state else None,
                    comparator=target.comparator,
                    kind=target.kind,
                    responsible=tuple(target.responsible or placed.task.responsible),
                    every=target.schedule.every if target.schedule else None,
                    breaches=breaches.get(target.id, ()),
                    achieved_on=reached_on.get(target.id),
                )
            )
        return tuple(rows)

    def _sections(self, statuses: dict[tuple[str, str], dict[str, Any]]) -> tuple[SectionProgress, ...]:
        def status_of(level: str, ref: str) -> tuple[TargetStatus | None, float | None, float | None]:
            state = statuses.get((level, ref))
            if state is None:
                return None, None, None
            return TargetStatus(state["status"]), state["completion"], state["expected"]

        sections = []
        for section in self.plan.sections:
            tasks = tuple(
                TaskProgress(task.no, task.title, *status_of("task", str(task.no)), responsible=tuple(task.responsible))
                for task in section.tasks
            )
            sections.append(
                SectionProgress(
                    section.no, section.index, section.title, *status_of("section", section.no), tasks=tasks
                )
            )
        return tuple(sections)

    # --- safety -----------------------------------------------------------------------------

    async def _safety(self, conn: AsyncConnection, period: Period, as_of: datetime) -> SafetySummary:
        i = t.incident_facts
        in_period = and_(i.c.occurred_at >= period.start, i.c.occurred_at <= as_of)
        tally = (func.count(), func.coalesce(func.sum(i.c.deaths), 0), func.coalesce(func.sum(i.c.injuries), 0))

        async def grouped(column: Any) -> list[Any]:
            query = select(column, *tally).where(in_period).group_by(column).order_by(func.count().desc(), column)
            return list(await conn.execute(query))

        by_category = tuple(Tally(IncidentCategory(k), n, d, j) for k, n, d, j in await grouped(i.c.category))
        by_grade = tuple(Tally(IncidentGrade(k) if k else None, n, d, j) for k, n, d, j in await grouped(i.c.grade))
        by_township = tuple(Tally(k, n, d, j) for k, n, d, j in await grouped(i.c.township))
        notable_query = (
            select(i)
            .where(
                in_period,
                or_(
                    i.c.deaths > 0,
                    i.c.grade.in_(("I", "II", "III")),
                    i.c.category != IncidentCategory.INFECTIOUS_DISEASE.value,
                ),
            )
            .order_by(i.c.occurred_at, i.c.event_id)
            .limit(30)
        )
        notable = tuple(
            IncidentItem(
                occurred_at=r.occurred_at,
                unit_name=r.unit_name,
                category=IncidentCategory(r.category),
                township=r.township,
                grade=IncidentGrade(r.grade) if r.grade else None,
                deaths=r.deaths,
                injuries=r.injuries,
                report_delay=r.reported_at - r.occurred_at,
            )
            for r in await conn.execute(notable_query)
        )
        return SafetySummary(
            by_category=by_category,
            by_grade=by_grade,
            by_township=by_township,
            by_month=await self._incidents_by_month(conn, as_of, since=period.start),
            notable=notable,
            outbreaks=await self._outbreaks(conn, period, as_of),
        )

    async def _incidents_by_month(
        self, conn: AsyncConnection, as_of: datetime, since: datetime | None = None
    ) -> tuple[Tally[date], ...]:
        """Incidents per local calendar month, from the plan year's start (or `since`) to `as_of`."""
        i = t.incident_facts
        first = local_date(since) if since else self.plan.year_start
        months = month_starts(max(first, self.plan.year_start), local_date(as_of))
        if not months:
            return ()
        columns = []
        for start in months:
            end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
            inside = and_(
                i.c.occurred_at >= local_midnight(start),
                i.c.occurred_at < local_midnight(end),
                i.c.occurred_at <= as_of,
            )
            columns += [
                func.sum(case((inside, 1), else_=0)),
                func.sum(case((inside, i.c.deaths), else_=0)),
                func.sum(case((inside, i.c.injuries), else_=0)),
            ]
        row = (await conn.execute(select(*columns))).one()
        return tuple(
            Tally(start, int(row[3 * n] or 0), int(row[3 * n + 1] or 0), int(row[3 * n + 2] or 0))
            for n, start in enumerate(months)
        )

    async def _outbreaks(self, conn: AsyncConnection, period: Period, as_of: datetime) -> tuple[OutbreakItem, ...]:
        a = t.alert_facts
        query = (
            select(a.c.labels, a.c.count, a.c.opened_at, a.c.last_event_at, a.c.resolved_at)
            .where(
                a.c.rule == OUTBREAK_RULE,
                a.c.opened_at <= as_of,
                or_(a.c.resolved_at.is_(None), a.c.resolved_at >= period.start),
            )
            .order_by(a.c.opened_at, a.c.alert_id)
        )
        names = {u.id: u for u in self.units}
        items = []
        for labels_text, count, opened, last, resolved in await conn.execute(query):
            labels = json.loads(labels_text)
            unit = names.get(labels.get("unit_id", ""))
            items.append(
                OutbreakItem(
                    school=unit.name if unit else labels.get("unit_name", labels.get("unit_id", "")),
                    disease=labels.get("disease", ""),
                    cases=count,
                    first_case=local_date(opened),
                    last_case=local_date(min(last, as_of)),
                    status=OutbreakStatus.ACTIVE if resolved is None or resolved > as_of else OutbreakStatus.CLOSED,
                    township=unit.township if unit else None,
                )
            )
        return tuple(items)

    # --- the headline -----------------------------------------------------------------------

    async def _headline(
        self,
        conn: AsyncConnection,
        period: Period,
        as_of: datetime,
        statuses: dict[tuple[str, str], dict[str, Any]],
        safety: SafetySummary,
    ) -> Headline:
        i = t.incident_facts
        year_start = local_midnight(self.plan.year_start)

        async def incidents(since: datetime) -> tuple[int, int, int]:
            row = (
                await conn.execute(
                    select(
                        func.count(), func.coalesce(func.sum(i.c.deaths), 0), func.coalesce(func.sum(i.c.injuries), 0)
                    ).where(i.c.occurred_at >= since, i.c.occurred_at <= as_of)
                )
            ).one()
            return int(row[0]), int(row[1]), int(row[2])

        in_period, year_to_date = await incidents(period.start), await incidents(year_start)
        by_status = await counted(conn, "received", day_span(period.start, as_of), "status")
        submissions = {status: n for status, (n, _name) in by_status.items()}
        plan_state = statuses.get(("plan", self.plan.id))
        return Headline(
            plan_completion=plan_state["completion"] if plan_state else None,
            expected_completion=plan_state["expected"] if plan_state else None,
            incidents_in_period=in_period[0],
            deaths_in_period=in_period[1],
            injuries_in_period=in_period[2],
            incidents_year_to_date=year_to_date[0],
            deaths_year_to_date=year_to_date[1],
            injuries_year_to_date=year_to_date[2],
            outbreaks_in_period=sum(1 for o in safety.outbreaks if local_midnight(o.first_case) >= period.start),
            outbreaks_active=sum(1 for o in safety.outbreaks if o.status is OutbreakStatus.ACTIVE),
            alerts=await self._alert_figures(conn, period, as_of),
            submissions_received=submissions.get("accepted", 0) + submissions.get("rejected", 0),
            submissions_rejected=submissions.get("rejected", 0),
        )

    async def _alert_figures(self, conn: AsyncConnection, period: Period, as_of: datetime) -> AlertFigures:
        a = t.alert_facts
        opened_in = and_(a.c.opened_at >= period.start, a.c.opened_at <= as_of)
        acked_in = and_(a.c.acknowledged_at >= period.start, a.c.acknowledged_at <= as_of)
        resolved_in = and_(a.c.resolved_at >= period.start, a.c.resolved_at <= as_of)
        counts = (
            await conn.execute(
                select(
                    func.sum(case((opened_in, 1), else_=0)),
                    func.sum(case((acked_in, 1), else_=0)),
                    func.sum(case((resolved_in, 1), else_=0)),
                    func.sum(
                        case(
                            (and_(a.c.opened_at <= as_of, or_(a.c.resolved_at.is_(None), a.c.resolved_at > as_of)), 1),
                            else_=0,
                        )
                    ),
                )
            )
        ).one()
        by_severity = Counter(Severity(k) for k in (await self._severities_as_of(conn, opened_in, as_of)).values())
        to_ack = await self._durations(conn, select(a.c.opened_at, a.c.acknowledged_at).where(acked_in))
        to_resolve = await self._durations(conn, select(a.c.opened_at, a.c.resolved_at).where(resolved_in))
        return AlertFigures(
            opened=int(counts[0] or 0),
            acknowledged=int(counts[1] or 0),
            resolved=int(counts[2] or 0),
            open_at_end=int(counts[3] or 0),
            median_time_to_acknowledge=to_ack,
            median_time_to_resolve=to_resolve,
            opened_by_severity=by_severity,
        )

    @staticmethod
    async def _severities_as_of(conn: AsyncConnection, chosen: ColumnElement[bool], as_of: datetime) -> dict[str, str]:
        """The chosen alerts' severities as of `as_of`: their latest alert event's by then (event time,
        then event id), else — an alert kept before severities were — the severity stored with it."""
        a, h = t.alert_facts, t.alert_severities
        severities: dict[str, str] = dict((await conn.execute(select(a.c.alert_id, a.c.severity).where(chosen))).all())
        history = (
            select(h.c.alert_id, h.c.severity)
            .where(h.c.alert_id.in_(select(a.c.alert_id).where(chosen)), h.c.since <= as_of)
            .order_by(h.c.since, h.c.event_id)
        )
        for alert_id, severity in await conn.execute(history):
            severities[alert_id] = severity  # the later one wins
        return severities

    @staticmethod
    async def _durations(conn: AsyncConnection, query: Select[Any]) -> timedelta | None:
        # Two timestamps per alert in the period: the median is taken here, portably across databases.
        spans = [
            (end - start).total_seconds() for start, end in await conn.execute(query) if start and end and end >= start
        ]
        return timedelta(seconds=statistics.median(spans)) if spans else None

    # --- reporting completeness (DHIS2's reporting rate and reporting rate on time) ---------

    async def _reporting(self, conn: AsyncConnection, as_of: datetime) -> tuple[UnitReporting, ...]:
        """Year to date: every unit is expected to report each month whose deadline has passed.

        A month's report is any accepted submission about that month; it is on time when the first
        one arrived by the deadline (the `deadline_days`-th day after the month ends).
        """
        months = [m for m in month_starts(self.plan.year_start, local_date(as_of)) if self._deadline(m) <= as_of]
        if not months or not self.units:
            return ()
        c = t.submission_counts
        # A unit's first accepted report about a month, from the day counts: the earliest arrival
        # overall is also the earliest at or before `as_of`, when there is one by then.
        first_received = (
            select(c.c.unit_id, c.c.month, func.min(c.c.first_received))
            .where(c.c.basis == "occurred", c.c.status == "accepted", c.c.month.in_(months))
            .group_by(c.c.unit_id, c.c.month)
        )
        received: dict[str, int] = {}
        on_time: dict[str, int] = {}
        for unit_id, month, first in await conn.execute(first_received):
            if first > as_of:
                continue
            received[unit_id] = received.get(unit_id, 0) + 1
            if first <= self._deadline(month):
                on_time[unit_id] = on_time.get(unit_id, 0) + 1
        by_unit = await counted(conn, "received", day_span(None, as_of), "unit_id", statuses=("rejected",))
        rejected = {unit_id: n for unit_id, (n, _name) in by_unit.items() if unit_id}
        return tuple(
            UnitReporting(
                unit_id=unit.id,
                unit_name=unit.name,
                expected=len(months),
                received=received.get(unit.id, 0),
                on_time=on_time.get(unit.id, 0),
                township=unit.township,
                rejected=rejected.get(unit.id, 0),
            )
            for unit in sorted(self.units, key=lambda u: (u.kind, u.township or "", u.id))
        )

    def _deadline(self, month: date) -> datetime:
        return local_midnight(_next_month(month) + timedelta(days=self.deadline_days))

    # --- trends -----------------------------------------------------------------------------

    async def _progress_trend(self, conn: AsyncConnection, as_of: datetime) -> tuple[ProgressPoint, ...]:
        """The plan's completion at each month end so far, against its 序时进度."""
        h = t.status_history
        points = []
        for month in month_starts(self.plan.year_start, local_date(as_of)):
            at = min(local_midnight(_next_month(month)) - EPSILON, as_of)
            row = (
                await conn.execute(
                    select(h.c.completion, h.c.expected)
                    .where(h.c.level == "plan", h.c.ref == self.plan.id, h.c.occurred_at <= at)
                    .order_by(h.c.occurred_at.desc(), h.c.revision.desc(), h.c.event_id.desc())
                    .limit(1)
                )
            ).first()
            if row is not None:
                points.append(ProgressPoint(at=local_date(at), actual=row[0], expected=row[1]))
        return tuple(points)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


_ = (UTC, REPORT_TZ)
