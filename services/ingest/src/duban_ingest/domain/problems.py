"""Why a submission is rejected: one `Problem` per fault, each with a code, the field, the value and
messages in Chinese and English that say what is wrong, where, and how to put it right.

Rejection codes (stable; integrations may branch on them):

==========================  ===================================================================
code                        meaning
==========================  ===================================================================
wrong_type                  a value (or the whole submission) has the wrong JSON type
too_many_fields             the submission has more keys than `Limits.max_fields`
too_long                    a text is longer than its limit (`Limits`)
missing_field               a required field is absent or empty
conflicting_fields          one field given twice (e.g. `value` and `数值`) with different values
unknown_kind                `kind`/`类型` is not progress, incident, measurement, activity or case
unknown_unit                the reporting unit (`source`/`单位`) is not in the registry
ambiguous_unit              the unit name fits more than one registered unit
unit_not_permitted          the integration may not speak for that unit (`integrations`)
unknown_target              the indicator names no target of the plan
ambiguous_target            the indicator fits more than one target of the plan
target_not_reportable       progress sent for a target that is checked by measurements (a constraint)
unknown_metric              a measurement's metric is not 班额, 每天运动时间 or a rate of the plan
invalid_number              the value is not a number duban can read
not_finite                  the value is NaN or infinite (NaN, Infinity, a JSON 1e400)
value_out_of_range          the value, in the target's unit, is beyond what duban holds (> 10¹⁵:
                            1亿亿…亿, a number of 40 digits) — never stored as inf or 1e294
unknown_measure_unit        the value carries a unit of measure duban does not know
unit_mismatch               the value's unit does not convert to the target's unit (元 for 平方米)
ambiguous_ratio             a bare number above 1 for a rate: write 95% or 0.95
negative_value              an amount or count below zero
not_integer                 a count (cases, deaths, class size …) with a fractional part
implausible_value           outside the plausible range (10× the annual target, class size, …)
invalid_mode                `mode`/`方式` is not increment (新增) or cumulative (累计)
invalid_date                a date or time duban cannot read, or that does not exist
date_outside_plan_year      the date is not in the plan's year
date_in_future              the date is after the time ingest received the submission
reported_before_occurred    an incident's report time is before the time it occurred
unknown_category            an incident category duban does not know
invalid_grade               an incident grade that is not Ⅰ–Ⅳ / 特别重大 / 重大 / 较大 / 一般
invalid_choice              a case's channel, action or satisfaction rating is not one duban knows
invalid_json                the message is not JSON (nor UTF-8/16/32 text)
too_large                   the message is longer than `Limits.max_submission_bytes`
too_deep                    the JSON nests deeper than `Limits.max_json_depth`
invalid_event               the canonical event built from the submission would not read back
                            (consumers could not apply it): refused rather than dead-lettered
internal_error              a fault in ingest itself; the submission may be resent unchanged
==========================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Every value quoted back is masked of personal data and cut short (rejections are kept for years).
from .privacy import masked_echo as echo


@dataclass(frozen=True)
class Problem:
    code: str
    field: str | None
    value: str | None
    message_zh: str
    message_en: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    problems: tuple[Problem, ...]
    kind: str | None
    unit_id: str | None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.problems)


def _where_zh(field: str | None) -> str:
    return f"字段“{field}”" if field else "提交内容"


def _where_en(field: str | None) -> str:
    return f"field '{field}'" if field else "the submission"


def _candidates_zh(candidates: Sequence[str]) -> str:
    return f"是否指：{'、'.join(candidates)}？" if candidates else ""


def _candidates_en(candidates: Sequence[str]) -> str:
    return f" Did you mean: {', '.join(candidates)}?" if candidates else ""


def wrong_type(field: str | None, value: object, expected_zh: str, expected_en: str) -> Problem:
    got = type(value).__name__
    return Problem(
        "wrong_type",
        field,
        echo(value),
        f"{_where_zh(field)}的类型不对：应为{expected_zh}，收到的是 {got}。",
        f"{_where_en(field)} has the wrong type: expected {expected_en}, got {got}.",
    )


def too_many_fields(count: int, limit: int) -> Problem:
    return Problem(
        "too_many_fields",
        None,
        str(count),
        f"提交内容有 {count} 个字段，超过上限 {limit} 个。",
        f"The submission has {count} fields, more than the limit of {limit}.",
    )


def too_long(field: str | None, value: object, length: int, limit: int) -> Problem:
    return Problem(
        "too_long",
        field,
        echo(value),
        f"{_where_zh(field)}长 {length} 个字符，超过上限 {limit} 个，请精简后重报。",
        f"{_where_en(field)} is {length} characters long, more than the limit of {limit}; shorten it and resend.",
    )


def missing_field(field: str, why_zh: str = "", why_en: str = "") -> Problem:
    return Problem(
        "missing_field",
        field,
        None,
        f"缺少必填字段“{field}”{('：' + why_zh) if why_zh else ''}。",
        f"Required field '{field}' is missing{(': ' + why_en) if why_en else ''}.",
    )


def conflicting_fields(field: str, other: str, value: object) -> Problem:
    return Problem(
        "conflicting_fields",
        field,
        echo(value),
        f"字段“{field}”与“{other}”表示同一项内容，但取值不同，请只保留一个。",
        f"Fields '{field}' and '{other}' mean the same thing but have different values; keep one.",
    )


def unknown_kind(field: str | None, value: object, accepted: Sequence[str]) -> Problem:
    return Problem(
        "unknown_kind",
        field,
        echo(value),
        f"{_where_zh(field)}的类型“{echo(value)}”无法识别，应为：{'、'.join(accepted)}。",
        f"{_where_en(field)}: kind '{echo(value)}' is not one of progress, incident, measurement, activity.",
        tuple(accepted),
    )


def unknown_unit(field: str, value: object, candidates: Sequence[str]) -> Problem:
    return Problem(
        "unknown_unit",
        field,
        echo(value),
        f"{_where_zh(field)}：单位“{echo(value)}”不在单位名录中。{_candidates_zh(candidates)}",
        f"{_where_en(field)}: reporting unit '{echo(value)}' is not in the registry.{_candidates_en(candidates)}",
        tuple(candidates),
    )


def ambiguous_unit(field: str, value: object, candidates: Sequence[str]) -> Problem:
    return Problem(
        "ambiguous_unit",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”可指多个单位（{'、'.join(candidates)}），请填写全称。",
        f"{_where_en(field)}: '{echo(value)}' names more than one unit ({', '.join(candidates)}); use the full name.",
        tuple(candidates),
    )


def unknown_target(field: str, value: object, candidates: Sequence[str]) -> Problem:
    return Problem(
        "unknown_target",
        field,
        echo(value),
        f"{_where_zh(field)}：指标“{echo(value)}”不是年度工作计划中的目标。{_candidates_zh(candidates)}",
        f"{_where_en(field)}: indicator '{echo(value)}' is not a target of the plan.{_candidates_en(candidates)}",
        tuple(candidates),
    )


def ambiguous_target(field: str, value: object, candidates: Sequence[str]) -> Problem:
    return Problem(
        "ambiguous_target",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”对应计划中的多个目标（{'、'.join(candidates)}），请写明具体指标。",
        f"{_where_en(field)}: '{echo(value)}' fits several targets ({', '.join(candidates)}); name one of them.",
        tuple(candidates),
    )


def target_not_reportable(field: str, value: object, target_id: str) -> Problem:
    return Problem(
        "target_not_reportable",
        field,
        echo(value),
        f"{_where_zh(field)}：目标 {target_id} 是约束性指标，不报送进度，请按“测量”（measurement）报送实测值。",
        f"{_where_en(field)}: target {target_id} is a constraint checked by measurements; "
        "send a measurement instead of progress.",
    )


def unknown_metric(field: str, value: object, candidates: Sequence[str]) -> Problem:
    return Problem(
        "unknown_metric",
        field,
        echo(value),
        f"{_where_zh(field)}：测量指标“{echo(value)}”无法识别（可报：班额、每天运动时间、计划中的比率类指标）。"
        f"{_candidates_zh(candidates)}",
        f"{_where_en(field)}: metric '{echo(value)}' is not 班额, 每天运动时间 or a rate of the plan."
        f"{_candidates_en(candidates)}",
        tuple(candidates),
    )


def invalid_number(field: str, value: object, why_zh: str = "", why_en: str = "") -> Problem:
    return Problem(
        "invalid_number",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”不是可识别的数值{('（' + why_zh + '）') if why_zh else ''}，"
        "请填写如 1200、1.2万、一千二百。",
        f"{_where_en(field)}: '{echo(value)}' is not a number duban can read{(' (' + why_en + ')') if why_en else ''}; "
        "write e.g. 1200, 1.2万 or 一千二百.",
    )


def unknown_measure_unit(field: str, value: object, spelling: str, expected: str) -> Problem:
    return Problem(
        "unknown_measure_unit",
        field,
        echo(value),
        f"{_where_zh(field)}：计量单位“{spelling}”无法识别，该指标以“{expected}”计。",
        f"{_where_en(field)}: unit of measure '{spelling}' is not known; this target is measured in '{expected}'.",
    )


def unit_mismatch(field: str, value: object, spelling: str, expected: str, target: str) -> Problem:
    return Problem(
        "unit_mismatch",
        field,
        echo(value),
        f"{_where_zh(field)}：单位“{spelling}”不能换算为“{target}”的计量单位“{expected}”。",
        f"{_where_en(field)}: unit '{spelling}' does not convert to '{expected}', the unit of {target}.",
    )


def ambiguous_ratio(field: str, value: object) -> Problem:
    return Problem(
        "ambiguous_ratio",
        field,
        echo(value),
        f"{_where_zh(field)}：比率“{echo(value)}”大于 1 且未带百分号，无法判断，请写成 95% 或 0.95。",
        f"{_where_en(field)}: rate '{echo(value)}' is above 1 without a % sign; write 95% or 0.95.",
    )


def negative_value(field: str, value: object) -> Problem:
    return Problem(
        "negative_value",
        field,
        echo(value),
        f"{_where_zh(field)}：数值“{echo(value)}”为负数，不能为负。",
        f"{_where_en(field)}: '{echo(value)}' is negative; it cannot be below zero.",
    )


def not_integer(field: str, value: object) -> Problem:
    return Problem(
        "not_integer",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”应为整数。",
        f"{_where_en(field)}: '{echo(value)}' must be a whole number.",
    )


def implausible_value(field: str, value: object, why_zh: str, why_en: str) -> Problem:
    return Problem(
        "implausible_value",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”不合常理：{why_zh}。请核实后重报。",
        f"{_where_en(field)}: '{echo(value)}' is implausible: {why_en}. Check it and resend.",
    )


def invalid_mode(field: str, value: object) -> Problem:
    return Problem(
        "invalid_mode",
        field,
        echo(value),
        f"{_where_zh(field)}：报送方式“{echo(value)}”无法识别，应为“新增”或“累计”。",
        f"{_where_en(field)}: mode '{echo(value)}' is neither increment (新增) nor cumulative (累计).",
        ("新增", "累计"),
    )


def invalid_date(field: str, value: object, why_zh: str = "", why_en: str = "") -> Problem:
    return Problem(
        "invalid_date",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”不是有效的日期时间{('（' + why_zh + '）') if why_zh else ''}，"
        "请填写如 2023年5月31日、2023-05-31 08:30。",
        f"{_where_en(field)}: '{echo(value)}' is not a valid date/time{(' (' + why_en + ')') if why_en else ''}; "
        "write e.g. 2023-05-31 or 2023-05-31 08:30.",
    )


def date_outside_plan_year(field: str, value: object, local_date: str, year: int) -> Problem:
    return Problem(
        "date_outside_plan_year",
        field,
        echo(value),
        f"{_where_zh(field)}：日期 {local_date} 不在 {year} 年度计划的年度内。",
        f"{_where_en(field)}: {local_date} is outside the plan year {year}.",
    )


def date_in_future(field: str, value: object, local_time: str, received: str) -> Problem:
    return Problem(
        "date_in_future",
        field,
        echo(value),
        f"{_where_zh(field)}：时间 {local_time} 晚于接收时间 {received}，不能填报未来的时间。",
        f"{_where_en(field)}: {local_time} is later than the time the submission was received ({received}).",
    )


def reported_before_occurred(field: str, value: object, occurred: str) -> Problem:
    return Problem(
        "reported_before_occurred",
        field,
        echo(value),
        f"{_where_zh(field)}：上报时间早于发生时间 {occurred}。",
        f"{_where_en(field)}: the report time is before the time the incident occurred ({occurred}).",
    )


def unknown_category(field: str, value: object, accepted: Sequence[str]) -> Problem:
    return Problem(
        "unknown_category",
        field,
        echo(value),
        f"{_where_zh(field)}：事件类别“{echo(value)}”无法识别，应为：{'、'.join(accepted)}。",
        f"{_where_en(field)}: incident category '{echo(value)}' is not known; use one of {', '.join(accepted)}.",
        tuple(accepted),
    )


def invalid_choice(field: str, value: object, what_zh: str, what_en: str, accepted: Sequence[str]) -> Problem:
    return Problem(
        "invalid_choice",
        field,
        echo(value),
        f"{_where_zh(field)}：{what_zh}“{echo(value)}”无法识别，应为：{'、'.join(accepted)}。",
        f"{_where_en(field)}: {what_en} '{echo(value)}' is not known; use one of {', '.join(accepted)}.",
        tuple(accepted),
    )


def invalid_grade(field: str, value: object) -> Problem:
    return Problem(
        "invalid_grade",
        field,
        echo(value),
        f"{_where_zh(field)}：事件等级“{echo(value)}”无法识别，应为 Ⅰ–Ⅳ级 或 特别重大、重大、较大、一般。",
        f"{_where_en(field)}: grade '{echo(value)}' is not I–IV (特别重大, 重大, 较大, 一般).",
        ("特别重大", "重大", "较大", "一般"),
    )


def internal_error() -> Problem:
    return Problem(
        "internal_error",
        None,
        None,
        "接收服务内部错误，未能处理本条报送；可原样重报，如仍失败请联系管理员。",
        "Ingest failed internally while reading this submission; it may be resent unchanged.",
    )


def not_finite(field: str | None, value: object) -> Problem:
    return Problem(
        "not_finite",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”不是有限的数（NaN 或无穷大），请填写实际数值。",
        f"{_where_en(field)}: '{echo(value)}' is not a finite number (NaN or infinity); write the actual figure.",
    )


def value_out_of_range(field: str | None, value: object, limit: str, read_as: str | None = None) -> Problem:
    """`limit` is the largest magnitude duban holds; `read_as` the amount as read, in the target's unit."""
    zh_read = f"折合 {read_as}，" if read_as else ""
    en_read = f" reads as {read_as}, which is" if read_as else " is"
    return Problem(
        "value_out_of_range",
        field,
        echo(value),
        f"{_where_zh(field)}：“{echo(value)}”{zh_read}绝对值超过可处理的上限 {limit}，"
        "应是录入错误（如多打了“万”“亿”或数字），请核实后重报。",
        f"{_where_en(field)}: '{echo(value)}'{en_read} beyond the largest magnitude duban holds ({limit}); "
        "probably a typing error (an extra 万, 亿 or digits). Check it and resend.",
    )


def invalid_event(field: str | None, value: object, why: str) -> Problem:
    """`why` is the contract's own (English) account of what does not read back."""
    return Problem(
        "invalid_event",
        field,
        echo(value),
        f"{_where_zh(field)}：按本报送生成的标准事件无法被下游服务读取（{why}），未予接收；请核实内容后重报。",
        f"{_where_en(field)}: the canonical event built from this submission would not be readable by the "
        f"services that consume it ({why}); it was not accepted. Check the submission and resend.",
    )


def invalid_json(preview: str | None, why: str) -> Problem:
    return Problem(
        "invalid_json",
        None,
        echo(preview),
        f"报送内容不是有效的 JSON（{why}）。",
        f"The submission is not valid JSON ({why}).",
    )


def too_large(size: int, limit: int) -> Problem:
    return Problem(
        "too_large",
        None,
        str(size),
        f"报送内容长 {size} 字节，超过上限 {limit} 字节，未予读取；一条报送只含一项内容，请拆分或精简后重报。",
        f"The submission is {size} bytes long, more than the limit of {limit}; it was not read. "
        "Send one item per submission, or shorten it.",
    )


def too_deep(limit: int) -> Problem:
    return Problem(
        "too_deep",
        None,
        None,
        f"报送内容的 JSON 嵌套超过 {limit} 层，未予读取；报送应为一层键值对。",
        f"The submission's JSON nests more than {limit} levels deep; it was not read. "
        "A submission is a flat object of fields.",
    )
