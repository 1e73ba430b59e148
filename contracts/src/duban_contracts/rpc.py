"""Request/reply bodies of the services' query and command endpoints (`<ns>.v1.<service>.<verb>`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from .events import Contract, StatusLevel, TargetStatus


class Failure(Contract):
    error: str
    message: str


# --- <service>.status (every service) -------------------------------------------------------


class ServiceStatus(Contract):
    """What a service holds that JetStream cannot see: events committed but not yet published."""

    service: str
    started: bool = Field(description="Consuming and relaying (false while starting or stopping).")
    outbox_pending: int = Field(description="Events committed to the service's outbox, not yet in JetStream.")
    relay_failing: bool = Field(description="The outbox relay's last attempt failed (NATS or database away).")
    work_pending: int = Field(
        default=0, description="Background work started by events and not finished yet (e.g. reports to render)."
    )


# --- tasks.query -----------------------------------------------------------------------------


class StatusQuery(Contract):
    level: StatusLevel = "plan"
    ref: str | None = Field(default=None, description="Target id, task number or section number (一…九).")
    as_of: date | datetime | None = Field(default=None, description="A date means the end of that local day.")


class StatusView(Contract):
    level: StatusLevel
    ref: str
    title: str
    status: TargetStatus
    status_zh: str
    completion: float
    expected: float
    actual: float | None = None
    target_value: float | None = None
    unit: str | None = None
    kind: str | None = None
    comparator: str | None = None
    section: str | None = None
    task: int | None = None
    due: date | None = None
    responsible: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    children: list[StatusView] = Field(default_factory=list)


class StatusReply(Contract):
    plan_id: str
    as_of: datetime
    view: StatusView


# --- alerts ----------------------------------------------------------------------------------


class AlertsQuery(Contract):
    state: Literal["firing", "acknowledged", "resolved", "open", "all"] = "open"
    rule: str | None = None
    limit: int = Field(default=200, ge=1, le=10_000)


class AlertCommand(Contract):
    action: Literal["ack", "silence", "expire_silence", "list_silences"]
    alert_id: str | None = None
    actor: str = "operator"
    comment: str | None = None
    matchers: list[str] = Field(default_factory=list, description='e.g. ["rule=lag", "unit=~bz-.*"]')
    duration_hours: float | None = None
    silence_id: str | None = None


class CommandReply(Contract):
    ok: bool
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


# --- reports ---------------------------------------------------------------------------------


ReportFormat = Literal["html", "pdf", "xlsx", "md"]


class ReportRequest(Contract):
    period: str = Field(description="2023-Q2, 2023-06, 2023-W23, 2023, or 2023-03-01..2023-03-15.")
    formats: list[ReportFormat] = Field(default_factory=lambda: list[ReportFormat](["html", "md"]))
    deliver: bool = Field(default=False, description="Also e-mail it to the leaders.")


class AggregateQuery(Contract):
    name: Literal["completion", "summary", "reports"]
    as_of: date | datetime | None = None
    period: str | None = None
