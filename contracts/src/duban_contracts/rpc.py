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
    status_zh: str = Field(description="The status in the words of the target's kind (未达标, 已达成, 逾期未开展 …).")
    completion: float
    expected: float = Field(description="序时进度: meaningful for plain quantities and roll-ups only (see `paced`).")
    paced: bool = Field(default=True, description="Whether 完成率 against 序时进度 speaks of this target.")
    figure_zh: str | None = Field(
        default=None,
        description="A target's figure in its kind's words: 3个班超过55人, 较上年增长12%（目标增长10%以上）.",
    )
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


class SignOffCommand(Contract):
    """销号 over `<ns>.v1.tasks.signoff`: list the sign-offs, or approve, return or resubmit a target.

    Over NATS the actor and section are what the caller says (only users allowed to publish the
    subject can act); over HTTP the actor is the token's holder.
    """

    action: Literal["list", "approve", "return", "resubmit"]
    target_id: str | None = None
    actor: str = "operator"
    section: str | None = Field(default=None, description="The section the actor acts for (股室), e.g. 基础教育股.")
    admin: bool = Field(default=False, description="An administrator may decide for any section.")
    reason: str | None = Field(default=None, description="Why: required to return a target.")
    request_id: str | None = Field(default=None, description="Makes a retried command harmless.")
    pending_only: bool = False


class CasesQuery(Contract):
    """`duban cases list`: the 信访 cases and 12345 work orders the alerts service keeps clocks for."""

    open_only: bool = Field(default=False, description="Only cases still with the bureau (待受理, 办理中, 延期办理).")
    as_of: date | None = Field(
        default=None, description="The local day the due dates and stages are judged on (default: the service's now)."
    )
    limit: int = Field(default=1000, ge=1, le=100_000)


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


# --- <service>.console: what the web console (督办台) asks beyond the query verbs -------------

ConsoleRead = Literal[
    "target_history",  # tasks: a target's progress reports and the units that contributed
    "alert",  # alerts: one alert, its escalation step and audit trail
    "submission",  # ingest: a submission, its reasons and the raw fields it was sent with
    "file",  # ingest: every row of an uploaded file and its outcome
    "status_history",  # reports: how a target/task/section/plan's status went over the year
    "units",  # reports: reporting completeness and timeliness per unit, year to date
]


class ConsoleQuery(Contract):
    """A read for one console page; `ref` names the thing (target id, alert id, submission id, file id …)."""

    what: ConsoleRead
    ref: str | None = None
    level: StatusLevel | None = None
    as_of: date | datetime | None = None
    limit: int = Field(default=500, ge=1, le=10_000)


class ConsoleCommand(Contract):
    """A change made from the console. `actor` is the signed-in person, set by the console, never a form."""

    action: Literal["resolve", "resubmit"]
    ref: str = Field(description="The alert id (resolve) or the rejected submission's id (resubmit).")
    actor: str
    comment: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict, description="resubmit: the corrected submission.")


#: Largest slice of a report file in one reply: base64 grows it by a third, NATS's payload limit is 1 MiB.
REPORT_CHUNK_BYTES = 512 * 1024


class ReportFileRequest(Contract):
    report_id: str
    format: ReportFormat
    offset: int = Field(default=0, ge=0)
    length: int = Field(default=REPORT_CHUNK_BYTES, ge=1, le=REPORT_CHUNK_BYTES)


class ReportFileChunk(Contract):
    report_id: str
    format: ReportFormat
    filename: str
    total: int = Field(description="Size of the whole file in bytes.")
    offset: int
    data: str = Field(description="This slice of the file, base64.")
    sha256: str = Field(description="Of the whole file, as report.generated announced it.")
