"""The alerts service's app factory."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import Counter, Gauge

from duban_contracts.plan import load_plan
from duban_contracts.topology import TOPOLOGY
from duban_kit.mail import mail_delivery, warn_when_mail_is_not_delivered
from duban_kit.service import ServiceRuntime

from .adapters import tables
from .adapters.sender import NotificationSender, channels_from_settings, sends_email
from .config import AlertsSettings
from .domain import load_rules, plan_targets
from .domain.config import RouteConfig
from .entrypoints import console_queries, handlers, http
from .usecases.desk import AlertDesk

MIGRATIONS = Path(__file__).parent / "migrations"


def receiver_names(route: RouteConfig) -> list[str]:
    names = [route.receiver] if route.receiver else []
    for child in route.routes:
        names += receiver_names(child)
    return sorted(set(names))


def create_app(settings: AlertsSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, inbox=tables.inbox, outbox=tables.outbox, migrations=MIGRATIONS)
    registry = runtime.metrics.registry
    firing = Gauge("duban_alerts_firing", "Open alerts, by severity and rule.", ["severity", "rule"], registry=registry)
    sent = Counter(
        "duban_notifications",
        "Notification delivery attempts, by receiver and outcome: sent (a server took it), written (an .eml "
        "file only: no SMTP server, nobody received it), failed.",
        ["receiver", "outcome"],
        registry=registry,
    )
    rules = load_rules(settings.rules_file)
    plan = load_plan(settings.plan_file)
    channels = channels_from_settings(settings, receiver_names(rules.notifications.route))
    sender = NotificationSender(runtime.db, settings, channels, sent)
    if sends_email(channels):
        smtp, mail_dir = settings.smtp_server(), settings.effective_mail_dir
        runtime.notices["mail"] = lambda: mail_delivery(smtp, mail_dir)

        async def say_where_mail_goes() -> None:
            warn_when_mail_is_not_delivered(smtp, mail_dir, "alert notifications")

        runtime.startup.append(say_where_mail_goes)
    desk = AlertDesk(
        rules=rules,
        targets=plan_targets(plan, active_from=plan.published),
        db=runtime.db,
        inbox=runtime.inbox,
        outbox=runtime.outbox,
        subjects=settings.subjects,
        metrics=runtime.metrics,
        firing=firing,
        on_notifications=sender.notify,
    )
    handlers.register(runtime, desk)
    console_queries.register(runtime, desk)
    runtime.declare_publishers(TOPOLOGY["alerts"].publishes)
    runtime.background.append(sender.run)
    runtime.routes.extend(http.routes(desk, runtime.auth))
    return runtime
