"""What integrations send: JSON on `duban.in.submission`, header `Nats-Msg-Id` = their unique id.

These models document the clean form (and generate its JSON Schema). Ingest accepts messier input
than this — Chinese keys, numbers with units and 万/亿, Chinese dates — and turns it into canonical
events or into a `submission.rejected` that says what, where and why.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The header that carries the integration's unique id for a submission.
SUBMISSION_ID_HEADER = "Nats-Msg-Id"
#: A submission read from an uploaded file: the file's id and the row it came from (provenance).
FILE_ID_HEADER = "Duban-File-Id"
ROW_HEADER = "Duban-Row"
#: A submission sent again (a correction, a dead letter replayed): the id of the one it replaces.
REPLAY_OF_HEADER = "Duban-Replay-Of"

Number = float | int | str


class _Submission(BaseModel):
    model_config = ConfigDict(extra="allow")

    source: str = Field(description="The reporting unit, by name or alias, e.g. 巴中市第二中学 or 巴中二中.")
    submitted_at: str | None = Field(
        default=None,
        description="填报时间: when the unit submitted it, if earlier than its arrival (batch uploads, replays). "
        "Timeliness of reporting is judged on it; it may not lie after the arrival.",
    )
    note: str | None = Field(default=None, description="备注: free text (masked of personal data by ingest).")


class ProgressSubmission(_Submission):
    kind: Literal["progress"] = "progress"
    indicator: str = Field(description="The plan target: id, verbatim phrase, metric name or alias.")
    value: Number = Field(description='Amount, with or without unit: 5000, "1.2万平方米", "300人次".')
    mode: Literal["increment", "cumulative"] = Field(
        default="increment", description="increment (新增) or cumulative-to-date (累计)."
    )
    date: str = Field(description="When the progress was made: 2023-06-05 or 2023年6月5日.")


class IncidentSubmission(_Submission):
    kind: Literal["incident"] = "incident"
    category: str = Field(
        description="溺水, 交通, 火灾, 森林火灾, 食品安全, 一氧化碳中毒, 自然灾害, 欺凌, 暴力伤害, 传染病, 其他."
    )
    disease: str | None = Field(default=None, description="病种, required for 传染病.")
    cases: int | str = 0
    deaths: int | str = 0
    injuries: int | str = 0
    class_: str | None = Field(default=None, alias="class", description="班级, e.g. 七年级3班.")
    grade: str | None = Field(default=None, description="Ⅰ–Ⅳ or 特别重大/重大/较大/一般.")
    occurred_at: str = Field(
        description="When it happened: 2023-03-02 08:10 (Asia/Shanghai unless an offset is given)."
    )
    reported_at: str | None = Field(
        default=None, description="When it was reported; defaults to the time ingest receives it."
    )
    summary: str | None = None


class MeasurementSubmission(_Submission):
    kind: Literal["measurement"] = "measurement"
    metric: str = Field(description="班额 (class size), 每天运动时间 (daily exercise minutes), or a coverage target.")
    value: Number
    class_: str | None = Field(default=None, alias="class")
    date: str


class ActivitySubmission(_Submission):
    kind: Literal["activity"] = "activity"
    activity: str = Field(description="The activity as the plan names it, e.g. 意识形态分析研判专题会.")
    date: str


class CaseSubmission(_Submission):
    """One action on a 信访 case or 12345 work order. No petitioner's name, phone, ID number or address."""

    kind: Literal["case"] = "case"
    case_id: str = Field(description="The office's own case number: 信访件编号 or the 12345 工单号.")
    channel: str = Field(description="来信, 来访, 网上信访, 12345 or 上级交办.")
    action: str = Field(
        description="received 登记, accepted 受理, forwarded 转送, extended 延期, concluded 办结, revisited 回访, "
        "resolved 化解."
    )
    at: str = Field(description="When the action happened: 2023-09-28 or 2023-09-28 16:30 (Asia/Shanghai).")
    category: str | None = Field(
        default=None, description="The matter's category; for 12345 the 诉求类别 that sets its time limit."
    )
    satisfaction: str | None = Field(default=None, description="On revisited: 满意, 基本满意 or 不满意.")
    limit_working_days: int | str | None = Field(
        default=None, description="A work order's own 办理时限 in working days; it wins over the configured limit."
    )
    extension_days: int | str | None = Field(default=None, description="On extended: the days asked for.")
    reason: str | None = Field(default=None, description="On extended or forwarded: why (masked of personal data).")
    forwarded_to: str | None = Field(default=None, description="On forwarded: the authority it went to.")


SubmissionReceived = Annotated[
    ProgressSubmission | IncidentSubmission | MeasurementSubmission | ActivitySubmission | CaseSubmission,
    Field(discriminator="kind"),
]
"""The inbound message (`submission.received`)."""
