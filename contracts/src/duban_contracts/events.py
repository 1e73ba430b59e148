"""Canonical events: what the services tell each other, version 1.

Every event is a frozen pydantic model carrying its own type, schema version, id, event time
(`occurred_at`), the time it was recorded, its source and, where one caused it, the inbound
submission it came from. Consumers are tolerant readers (unknown fields are ignored) so that
additive changes stay within a version; a breaking change gets a new `schema_version` and subject.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from .casework import CaseAction, CaseChannel, Satisfaction

SCHEMA_VERSION = 1

#: Namespace for deterministic event ids: an event derived from a cause gets the same id every
#: time the cause is processed, so re-processing is idempotent all the way down.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c3f0e-5b2d-4a8e-9d61-2a7c0e4b9d10")


def derived_event_id(*parts: object) -> str:
    """A stable id for an event caused by `parts` (e.g. a submission id and a role)."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class UnitRef(Contract):
    """A snapshot of the reporting unit at the time of the event (denormalised for readers)."""

    id: str = Field(description="Stable id of the reporting unit, e.g. `bz-ez` for 巴中市第二中学.")
    name: str = Field(description="Official Chinese name, e.g. 巴中市第二中学.")
    kind: Literal["school", "section", "external"] = "school"
    township: str | None = Field(default=None, description="乡镇/街道 of a school.")
    stage: str | None = Field(default=None, description="学段: 幼儿园, 小学, 初中, 九年一贯制, 高中, 中职.")


class Provenance(Contract):
    file_id: str | None = Field(default=None, description="sha256 of the uploaded file a row came from.")
    row: int | None = Field(default=None, description="1-based row number in that file.")


class Event(Contract):
    """Fields every canonical event carries."""

    event_type: ClassVar[str]

    schema_version: int = SCHEMA_VERSION
    event_id: str = Field(description="Unique id; consumers deduplicate on it.")
    occurred_at: AwareDatetime = Field(description="Event time: when it happened in the world.")
    recorded_at: AwareDatetime = Field(description="When duban recorded it.")
    source: str = Field(description="Who reported it: a unit id, or the service that derived it.")
    submission_id: str | None = Field(
        default=None, description="The inbound submission (its Nats-Msg-Id) that caused this event."
    )


# --- ingest ----------------------------------------------------------------------------------


class ProgressMode(StrEnum):
    INCREMENT = "increment"
    CUMULATIVE = "cumulative"


class TargetMatch(Contract):
    """How ingest matched the indicator or metric a submission named to the plan target or metric."""

    method: Literal["id", "exact", "alias", "fuzzy"] = Field(
        description="id: a target id; exact: the plan's text or metric name; alias: a listed alias; "
        "fuzzy: a clerk's wording, scored against the plan's phrases."
    )
    score: float = Field(ge=0, le=1, description="1 for id, exact and alias; the resolver's score for fuzzy.")
    phrase: str = Field(description="The indicator or metric as the submission gave it.")


class ProgressRecorded(Event):
    event_type: ClassVar[str] = "progress.recorded"

    type: Literal["progress.recorded"] = "progress.recorded"
    unit: UnitRef
    target_id: str = Field(description="Id of the plan target the progress counts towards.")
    value: float = Field(description="Amount in the target's base unit.")
    measure_unit: str = Field(description="The base unit of `value`, e.g. 平方米, 人次, 元.")
    mode: ProgressMode
    note: str | None = None
    provenance: Provenance = Provenance()
    target_match: TargetMatch | None = Field(default=None, description="How the indicator was matched.")


class IncidentCategory(StrEnum):
    DROWNING = "溺水"
    TRAFFIC = "交通"
    FIRE = "火灾"
    FOREST_FIRE = "森林火灾"
    FOOD_SAFETY = "食品安全"
    CARBON_MONOXIDE = "一氧化碳中毒"
    NATURAL_DISASTER = "自然灾害"
    BULLYING = "欺凌"
    VIOLENCE = "暴力伤害"
    INFECTIOUS_DISEASE = "传染病"
    OTHER = "其他"


class IncidentGrade(StrEnum):
    """Grades of 生产安全事故报告和调查处理条例 (国务院令第493号)."""

    I = "I"  # noqa: E741 - the regulation's own numbering
    II = "II"
    III = "III"
    IV = "IV"

    @property
    def label_zh(self) -> str:
        return {"I": "特别重大(Ⅰ级)", "II": "重大(Ⅱ级)", "III": "较大(Ⅲ级)", "IV": "一般(Ⅳ级)"}[self.value]


class IncidentReported(Event):
    event_type: ClassVar[str] = "incident.reported"

    type: Literal["incident.reported"] = "incident.reported"
    unit: UnitRef
    category: IncidentCategory
    disease: str | None = Field(default=None, description="病种, for 传染病, e.g. 流感, 诺如病毒.")
    grade: IncidentGrade | None = None
    cases: NonNegativeInt = 0
    deaths: NonNegativeInt = 0
    injuries: NonNegativeInt = 0
    class_name: str | None = Field(default=None, description="班级, e.g. 七年级3班.")
    reported_at: AwareDatetime = Field(description="When the unit reported it (delay matters).")
    summary: str | None = Field(default=None, description="Free text, masked of ID and phone numbers.")
    provenance: Provenance = Provenance()


class MeasurementRecorded(Event):
    event_type: ClassVar[str] = "measurement.recorded"

    type: Literal["measurement.recorded"] = "measurement.recorded"
    unit: UnitRef
    metric: str = Field(description="Metric id, e.g. class_size, daily_exercise_minutes.")
    metric_zh: str = Field(description="The metric's Chinese name, e.g. 班额.")
    target_id: str | None = Field(default=None, description="The plan target the measurement checks.")
    value: float
    measure_unit: str
    class_name: str | None = None
    provenance: Provenance = Provenance()
    target_match: TargetMatch | None = Field(default=None, description="How the metric was matched.")


class ActivityRecorded(Event):
    event_type: ClassVar[str] = "activity.recorded"

    type: Literal["activity.recorded"] = "activity.recorded"
    unit: UnitRef
    activity: str = Field(description="The activity's name as the plan says it.")
    target_id: str | None = Field(default=None, description="The dated or periodic plan target it fulfils.")
    note: str | None = None
    provenance: Provenance = Provenance()


class CaseRecorded(Event):
    """One action on a 信访 case or a 12345 work order (task 25 of the plan).

    `occurred_at` is when the action happened (`at` in the submission); `source` and `unit` name
    the unit handling the case. No personal data: a case carries no petitioner's name, phone
    number, ID number or address — only the office's case number, channel, category, the handling
    unit and dates; `reason` and `note` are masked by ingest like every free-text field.
    """

    event_type: ClassVar[str] = "case.recorded"

    type: Literal["case.recorded"] = "case.recorded"
    unit: UnitRef
    case_id: str = Field(description="The office's own case number: 信访件编号 or the 12345 工单号.")
    channel: CaseChannel = Field(description="来信, 来访, 网上信访, 12345 or 上级交办.")
    action: CaseAction = Field(
        description="received 登记, accepted 受理, forwarded 转送, extended 延期, concluded 办结, "
        "revisited 回访, resolved 化解."
    )
    category: str = Field(
        default="",
        description="The matter's category; for 12345 the 诉求类别 (咨询, 求助, 意见建议, 投诉举报) "
        "that sets its time limit.",
    )
    satisfaction: Satisfaction | None = Field(default=None, description="The rating given on a revisit.")
    limit_working_days: PositiveInt | None = Field(
        default=None, description="A work order's own 办理时限 in working days; it wins over the configured limit."
    )
    extension_days: PositiveInt | None = Field(
        default=None, description="On `extended`: the extension asked for (days, or working days for 12345)."
    )
    reason: str | None = Field(default=None, description="On `extended` (延期理由) or `forwarded`: why.")
    forwarded_to: str | None = Field(default=None, description="On `forwarded`: the authority it went to.")
    note: str | None = None
    provenance: Provenance = Provenance()


class CaseSummarised(Event):
    """A case as the rates count it, after an action on it: the alerts service's reading of its clock.

    Published by alerts (which keeps the clocks and the working-day calendar) each time a
    `case.recorded` changes a case. `occurred_at` is the time of the case's latest action known and
    `actions` how many actions it folds: the summary with the latest `occurred_at`, then the most
    `actions` (an earlier action that arrived late), is the case as known at that time. Dates are
    local (Asia/Shanghai); `due` is the last day on time to conclude, extension included, None while
    no handling clock runs (not yet accepted, or forwarded away). The rates
    (`duban_contracts.casework`) are computed from these summaries.
    """

    event_type: ClassVar[str] = "case.summarised"

    type: Literal["case.summarised"] = "case.summarised"
    unit: UnitRef
    case_id: str
    actions: PositiveInt = Field(description="How many recorded actions the summary folds.")
    channel: CaseChannel
    category: str = ""
    received_on: date
    accepted_on: date | None = Field(default=None, description="The day the handling clock starts.")
    concluded_on: date | None = None
    due: date | None = None
    forwarded_on: date | None = None
    rated_on: date | None = None
    satisfaction: Satisfaction | None = None
    resolved_on: date | None = None


class RejectionReason(Contract):
    code: str = Field(description="Machine-readable code, e.g. unknown_unit, unit_mismatch.")
    field: str | None = Field(default=None, description="The offending field, in the submission's keys.")
    value: str | None = Field(default=None, description="The offending value (truncated).")
    message_zh: str
    message_en: str
    candidates: list[str] = Field(default_factory=list, description="Closest valid values, if any.")


class SubmissionRejected(Event):
    event_type: ClassVar[str] = "submission.rejected"

    type: Literal["submission.rejected"] = "submission.rejected"
    submission_id: str | None = Field(default=None, description="The rejected submission's Nats-Msg-Id.")
    kind: str | None = Field(default=None, description="The submission's kind, when it could be read.")
    code: str
    field: str | None = None
    value: str | None = None
    message_zh: str
    message_en: str
    reasons: list[RejectionReason] = Field(default_factory=list)
    unit_id: str | None = None
    inbound_sequence: int | None = Field(
        default=None, description="Sequence of the raw submission in the inbound stream."
    )
    provenance: Provenance = Provenance()


# --- tasks -----------------------------------------------------------------------------------


class TargetStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    LAGGING = "lagging"
    CRITICAL = "critical"
    DONE = "done"
    OVERDUE = "overdue"

    @property
    def label_zh(self) -> str:
        return _STATUS_ZH[self]


_STATUS_ZH = {
    TargetStatus.NOT_STARTED: "未开始",
    TargetStatus.ON_TRACK: "正常推进",
    TargetStatus.LAGGING: "进度滞后",
    TargetStatus.CRITICAL: "严重滞后",
    TargetStatus.DONE: "已完成",
    TargetStatus.OVERDUE: "逾期未完成",
}

StatusLevel = Literal["target", "task", "section", "plan"]


class TaskStatusChanged(Event):
    event_type: ClassVar[str] = "task.status_changed"

    type: Literal["task.status_changed"] = "task.status_changed"
    level: StatusLevel
    ref: str = Field(description="Target id, task number, section number, or the plan id.")
    title: str
    section: str | None = None
    task: int | None = None
    status: TargetStatus
    previous_status: TargetStatus | None = None
    completion: float = Field(description="Actual progress as a share of the target (1.0 = met).")
    expected: float = Field(description="Expected share at this time (序时进度).")
    actual: float | None = None
    target_value: float | None = None
    measure_unit: str | None = None
    responsible: list[str] = Field(default_factory=list)
    due: datetime | None = None
    revision: int = Field(
        default=0, description="Increases with every change of this level and ref: orders changes with one event time."
    )


# --- alerts ----------------------------------------------------------------------------------


class TargetSignedOff(Event):
    """销号: a target's sign-off changed (reached → 待审核, approved → 已销号, returned → 已退回, …).

    Published by tasks on every step of a target's sign-off trail. Reports show the approved figure
    (`approved`, signed off by the responsible section) apart from the self-reported one.
    """

    event_type: ClassVar[str] = "target.signed_off"

    type: Literal["target.signed_off"] = "target.signed_off"
    target_id: str
    state: Literal["open", "pending", "approved", "returned"]
    action: str = Field(description="The trail step: reached, returned, resubmitted, approved, ….")
    actor: str
    reason: str | None = None
    self_reported: float | None = None
    approved: float | None = None
    steps: PositiveInt = Field(description="How many steps the trail has (orders the events of one target).")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


class AlertState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertEvent(Event):
    alert_id: str
    fingerprint: str
    rule: str
    severity: Severity
    state: AlertState
    labels: dict[str, str] = Field(default_factory=dict)
    title_zh: str
    summary_zh: str
    count: int = 1
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    escalation_level: int = Field(default=0, description="0 提醒, 1 催办, 2 督办.")


class AlertRaised(AlertEvent):
    event_type: ClassVar[str] = "alert.raised"
    type: Literal["alert.raised"] = "alert.raised"


class AlertUpdated(AlertEvent):
    event_type: ClassVar[str] = "alert.updated"
    type: Literal["alert.updated"] = "alert.updated"
    change: Literal["repeated", "escalated", "acknowledged", "severity_changed", "updated"] = "updated"
    actor: str | None = None


class AlertResolved(AlertEvent):
    event_type: ClassVar[str] = "alert.resolved"
    type: Literal["alert.resolved"] = "alert.resolved"
    reason: str = "condition_cleared"


# --- reports ---------------------------------------------------------------------------------


class ReportFile(Contract):
    format: Literal["html", "pdf", "xlsx", "md"]
    path: str
    sha256: str
    bytes: int


class ReportGenerated(Event):
    event_type: ClassVar[str] = "report.generated"

    type: Literal["report.generated"] = "report.generated"
    report_id: str
    kind: Literal["weekly", "monthly", "quarterly", "annual", "adhoc"]
    period: str = Field(description="e.g. 2023-W23, 2023-06, 2023-Q2, 2023.")
    period_start: AwareDatetime
    period_end: AwareDatetime
    title: str
    files: list[ReportFile] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)


# --- runtime ---------------------------------------------------------------------------------


class ClockTicked(Event):
    """The event-time clock: published each minute when live, faster when replaying a year."""

    event_type: ClassVar[str] = "clock.ticked"

    type: Literal["clock.ticked"] = "clock.ticked"
    mode: Literal["live", "replay"] = "live"


EVENT_MODELS: tuple[type[Event], ...] = (
    ProgressRecorded,
    IncidentReported,
    MeasurementRecorded,
    ActivityRecorded,
    CaseRecorded,
    CaseSummarised,
    SubmissionRejected,
    TaskStatusChanged,
    TargetSignedOff,
    AlertRaised,
    AlertUpdated,
    AlertResolved,
    ReportGenerated,
    ClockTicked,
)

EVENT_TYPES: dict[str, type[Event]] = {model.event_type: model for model in EVENT_MODELS}

AnyEvent = Annotated[
    ProgressRecorded
    | IncidentReported
    | MeasurementRecorded
    | ActivityRecorded
    | CaseRecorded
    | CaseSummarised
    | SubmissionRejected
    | TaskStatusChanged
    | TargetSignedOff
    | AlertRaised
    | AlertUpdated
    | AlertResolved
    | ReportGenerated
    | ClockTicked,
    Field(discriminator="type"),
]
