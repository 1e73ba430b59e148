"""The reports service's app factory."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import Counter, Histogram

from duban_contracts.plan import load_plan
from duban_contracts.reporting_units import load_reporting_units
from duban_contracts.topology import TOPOLOGY
from duban_kit.mail import mail_delivery, warn_when_mail_is_not_delivered
from duban_kit.service import ServiceRuntime

from .adapters import tables
from .adapters.mail import ReportMailer
from .config import ReportsSettings
from .domain.casework import load_casework_targets
from .domain.periods import ReportKind, year
from .domain.schedule import ReportSchedule, ScheduleEntry
from .entrypoints import console_queries, handlers, http
from .rendering import Format
from .usecases.aggregates import Aggregates
from .usecases.builder import ReportBuilder
from .usecases.facts import FactKeeper
from .usecases.publishing import ReportDesk, ReportMetrics

MIGRATIONS = Path(__file__).parent / "migrations"


def schedule_of(settings: ReportsSettings, plan_year: int) -> ReportSchedule:
    crons = {
        ReportKind.WEEKLY: settings.schedule_weekly,
        ReportKind.MONTHLY: settings.schedule_monthly,
        ReportKind.QUARTERLY: settings.schedule_quarterly,
        ReportKind.ANNUAL: settings.schedule_annual,
    }
    entries = tuple(ScheduleEntry(kind, cron) for kind, cron in crons.items() if cron.strip())
    return ReportSchedule(entries, plan_year=year(plan_year))


def _formats(text: str) -> tuple[Format, ...]:
    return tuple(f.strip() for f in text.split(",") if f.strip())  # type: ignore[misc]


def create_app(settings: ReportsSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, inbox=tables.inbox, outbox=tables.outbox, migrations=MIGRATIONS)
    registry = runtime.metrics.registry
    metrics = ReportMetrics(
        generated=Counter("duban_reports_generated", "Reports generated, by kind.", ["kind"], registry=registry),
        duration=Histogram(
            "duban_report_duration_seconds",
            "Time to build, render, store and mail a report.",
            ["kind"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=registry,
        ),
    )
    plan = load_plan(settings.plan_file)
    units = load_reporting_units(settings.units_file).units
    builder = ReportBuilder(
        runtime.db,
        plan,
        units,
        deadline_days=settings.reporting_deadline_days,
        casework_targets=load_casework_targets(settings.casework_targets_file),
    )
    smtp, mail_dir = settings.smtp_server(), settings.effective_mail_dir
    mailer = ReportMailer(
        recipients=[a.strip() for a in settings.leaders.split(",") if a.strip()],
        sender=settings.mail_sender,
        outbox=mail_dir,
        smtp=smtp,
    )
    runtime.notices["mail"] = lambda: mail_delivery(smtp, mail_dir)

    async def say_where_mail_goes() -> None:
        warn_when_mail_is_not_delivered(smtp, mail_dir, "reports")

    runtime.startup.append(say_where_mail_goes)
    desk = ReportDesk(
        builder=builder,
        schedule=schedule_of(settings, plan.year),
        db=runtime.db,
        outbox=runtime.outbox,
        subjects=settings.subjects,
        reports_dir=settings.effective_reports_dir,
        mailer=mailer,
        formats_by_kind={"weekly": _formats(settings.weekly_formats), "default": _formats(settings.formats)},
        metrics=metrics,
    )
    facts = FactKeeper(
        runtime.db,
        runtime.inbox,
        runtime.metrics,
        on_clock=desk.on_clock,
        outbox=runtime.outbox,
        subjects=settings.subjects,
    )
    aggregates = Aggregates(runtime.db)
    handlers.register(runtime, facts, aggregates, desk)
    console_queries.register(runtime, desk, aggregates, builder, settings.effective_reports_dir)
    runtime.declare_publishers(TOPOLOGY["reports"].publishes)
    runtime.startup.append(desk.prepare)
    runtime.background.append(desk.run)
    runtime.pending_work["report_jobs"] = desk.pending
    runtime.routes.extend(http.routes(desk, aggregates, runtime.auth))
    return runtime
