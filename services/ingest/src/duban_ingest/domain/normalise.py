"""Normalisation: one raw submission (any JSON value) -> a domain object, or a `Rejection` that lists
every problem found (not just the first), each with its code, field, value and reasons in Chinese
and English. `normalise` never raises. The rejection codes are listed in `problems`.

How a submission is read:

1. Keys are recognised in English or Chinese, with stray spaces and full-width forms (`keys`); unknown
   keys are dropped. The same field given twice with different values is a conflict.
2. The kind comes from `kind`/`类型` (进度, 事件/事故, 测量, 活动 …); without it, from the one field that
   only one kind has (indicator → progress, category → incident, metric → measurement, activity →
   activity). Both missing or several present: `missing_field`.
3. The reporting unit is looked up in the registry (`registry`); the target or metric in the plan
   (`targets`); amounts are read and converted to the target's base unit (`numbers`); dates are read
   in the bureau's zone and returned in UTC (`dates`; a date alone is the start of that local day).
4. Plausibility (`Limits`, each bound with its reason): every amount is finite and, in the target's
   unit, within ±10¹⁵ (`numbers.MAX_MAGNITUDE`; beyond it `value_out_of_range`, NaN/infinity
   `not_finite`); amounts are not negative, except growth; an increment is at most
   `Limits.implausible_factor` and a cumulative total at most `Limits.cumulative_factor` times the
   whole annual target; rates and coverage lie within 0–100%, growth within `Limits.growth_min`–
   `Limits.growth_max`; class sizes within 1–150; daily exercise within 0–600 minutes; dates lie in
   the plan year and not after the time ingest received the submission (`received_at`, plus
   `Limits.clock_skew`).
5. Free text (note, summary, activity, class) is masked of personal data (`privacy`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from duban_contracts.events import IncidentCategory
from duban_contracts.plan import Plan, Target, TargetKind
from duban_contracts.timezone import SHANGHAI as BUREAU_ZONE
from duban_contracts.units import RATIO

from . import problems as p
from .cases import ACTION_NAMES, CHANNEL_NAMES, SATISFACTION_NAMES, parse_action, parse_channel, parse_satisfaction
from .dates import Moment, NotADate, parse_moment
from .incidents import Grade, canonical_disease, category_names, parse_category, parse_grade
from .keys import FIELD_NAMES_ZH, is_chinese_key, read_key
from .model import Activity, Case, Incident, Measurement, Normalised, Progress, content_fingerprint
from .numbers import (
    MAX_MAGNITUDE,
    NotANumber,
    Quantity,
    UnitFault,
    in_base_unit,
    parse_quantity,
    quantity_from_number,
)
from .privacy import KEYLESS, PersonalDataMask, mask_personal_data
from .problems import Problem, Rejection
from .registry import Unit, UnitLookupFailure, UnitRegistry, registry_as_json
from .targets import (
    CLASS_SIZE,
    DAILY_EXERCISE_MINUTES,
    FoundMetric,
    FoundTarget,
    MetricSpec,
    TargetIndex,
    TargetLookupFailure,
)
from .text import compact, squeeze, tidy

__all__ = [
    "Activity",
    "Case",
    "Incident",
    "Limits",
    "Measurement",
    "NormalisationContext",
    "Normalised",
    "PersonalDataMask",
    "Problem",
    "Progress",
    "Rejection",
    "Unit",
    "UnitLookupFailure",
    "UnitRegistry",
    "content_fingerprint",
    "mask_personal_data",
    "normalise",
    "registry_as_json",
]

_Choice = TypeVar("_Choice")

#: The bureau's time zone: times written without an offset are local to it.

Kind = Literal["progress", "incident", "measurement", "activity", "case"]
Mode = Literal["increment", "cumulative"]

_KIND_SPELLINGS: dict[Kind, tuple[str, ...]] = {
    "progress": ("progress", "进度", "进展", "工作进度", "完成进度", "进度报送", "完成情况"),
    "incident": ("incident", "事件", "事故", "突发事件", "安全事故", "安全事件", "疫情", "传染病疫情"),
    "measurement": ("measurement", "测量", "监测", "测量值", "测量数据", "监测数据", "实测"),
    "activity": ("activity", "活动", "开展活动", "工作活动"),
    "case": ("case", "信访", "信访件", "信访事项", "工单", "12345工单", "热线工单"),
}
_KINDS: dict[str, Kind] = {compact(s): kind for kind, spellings in _KIND_SPELLINGS.items() for s in spellings}
#: Fields only one kind has, used to tell the kind when `kind` is not given.
_KIND_BY_FIELD: dict[str, Kind] = {
    "indicator": "progress",
    "category": "incident",
    "metric": "measurement",
    "activity": "activity",
    "case_id": "case",
}
_MODE_SPELLINGS: dict[Mode, tuple[str, ...]] = {
    "increment": ("increment", "inc", "新增", "增量", "本次", "本期", "当期", "新完成", "增加"),
    "cumulative": ("cumulative", "cum", "total", "累计", "累积", "累计完成", "截至目前", "总计", "合计"),
}
_MODES: dict[str, Mode] = {compact(s): mode for mode, spellings in _MODE_SPELLINGS.items() for s in spellings}
_COUNT_SPELLINGS = frozenset({"人", "名", "位", "例", "个", "人次"})


@dataclass(frozen=True)
class Limits:
    """What normalisation accepts; the thresholds of plausibility, each with the reason for its default.

    A value outside them is refused with a reason (`implausible_value`) rather than passed on: what
    ingest accepts, every consumer must be able to apply. All are configurable (`IngestSettings`).
    """

    max_fields: int = 64
    max_cell_chars: int = 2000
    max_name_chars: int = 200
    #: A submission is one item of a few short fields (well under 2 KiB in the simulated year). 64 KiB
    #: is what the inbound stream stores at most (`max_msg_size` in contracts/topology.py), so a door
    #: without that server limit (an HTTP body) reads no more per submission. Checked on the raw
    #: bytes, before they are decoded.
    max_submission_bytes: int = 64 * 1024
    #: A submission is a flat object (depth 1) and a batch a list of them (2): 32 levels is far more
    #: than any real submission and far less than the depth at which a recursive parser fails.
    max_json_depth: int = 32
    clock_skew: timedelta = timedelta(minutes=5)
    #: One increment (新增) is at most this many times the whole annual target: a report of ten years'
    #: work at once is a typing error (an extra 万 or zero), not progress.
    implausible_factor: float = 10.0
    #: A cumulative total (累计) is at most this many times the annual target: ten times the year's
    #: target is a typing error, not over-fulfilment.
    cumulative_factor: float = 10.0
    #: Growth against last year (增幅, as a fraction): a decline cannot exceed 100% (-1); growth above
    #: 1000% (10) in a year is a typing error — the plan's growth targets are 0–10%.
    growth_min: float = -1.0
    growth_max: float = 10.0
    #: 班额: no class has fewer than one pupil; 150 is more than twice the 66 that makes a 超大班额, so
    #: a larger figure counts a grade or a school, not a class.
    class_size_min: int = 1
    class_size_max: int = 150
    #: Daily exercise: ten hours is more than a school day.
    exercise_minutes_max: float = 600.0
    max_people: int = 10_000


@dataclass(frozen=True)
class NormalisationContext:
    """Everything `normalise` needs besides the submission.

    The target index is built once per plan; `ctx.received(at)` gives the context for the next
    message with the indexes reused (constructing a new context with the same `target_index` does too).
    """

    plan: Plan
    registry: UnitRegistry
    received_at: datetime
    timezone: ZoneInfo = BUREAU_ZONE
    limits: Limits = Limits()
    target_index: TargetIndex | None = field(default=None, repr=False, compare=False)
    #: Masks personal data in free text; with the deployment's secret, names become linkable pseudonyms.
    mask: PersonalDataMask = field(default=KEYLESS, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise ValueError("received_at must be an aware datetime")
        object.__setattr__(self, "received_at", self.received_at.astimezone(UTC))
        if self.target_index is None or self.target_index.plan is not self.plan:
            object.__setattr__(self, "target_index", TargetIndex(self.plan))

    @property
    def targets(self) -> TargetIndex:
        if self.target_index is None:  # pragma: no cover - set in __post_init__
            raise RuntimeError("target index not built")
        return self.target_index

    def received(self, at: datetime) -> NormalisationContext:
        return replace(self, received_at=at)


def normalise(raw: object, ctx: NormalisationContext) -> Normalised | Rejection:
    """The submission as a domain object, or every reason it cannot be accepted."""
    try:
        return _normalise(raw, ctx)
    except Exception:  # the last line of defence: a bug here must reject one message, not stop the consumer
        return Rejection((p.internal_error(),), None, None)


def _normalise(raw: object, ctx: NormalisationContext) -> Normalised | Rejection:
    if not isinstance(raw, Mapping):
        problem = p.wrong_type(None, raw, "JSON 对象（键值对）", "a JSON object")
        return Rejection((problem,), None, None)
    if len(raw) > ctx.limits.max_fields:
        return Rejection((p.too_many_fields(len(raw), ctx.limits.max_fields),), None, None)
    submission = _Submission(raw, ctx)
    kind = submission.kind()
    unit = submission.unit()
    item = _BUILDERS[kind](submission, unit) if kind else None
    if item is None or submission.problems:
        return Rejection(tuple(submission.problems), kind, unit.id if unit else None)
    return item


@dataclass(frozen=True)
class _Field:
    key: str
    value: object
    unit_hint: str | None
    usable: bool = True


class _Submission:
    """One submission being read: its recognised fields and the problems found so far."""

    def __init__(self, raw: Mapping[object, object], ctx: NormalisationContext) -> None:
        self.ctx = ctx
        self.limits = ctx.limits
        self.problems: list[Problem] = []
        self.fields: dict[str, _Field] = {}
        self.chinese = False
        self._read_keys(raw)

    # --- keys ------------------------------------------------------------------------------

    def _read_keys(self, raw: Mapping[object, object]) -> None:
        chinese_keys = 0
        for raw_key, value in raw.items():
            key = raw_key if isinstance(raw_key, str) else str(raw_key)
            meaning = read_key(key)
            if meaning.field is None:
                continue
            chinese_keys += 1 if is_chinese_key(key) else -1
            usable = True
            if isinstance(value, str) and len(value) > self.limits.max_cell_chars:
                self.problems.append(p.too_long(key, value, len(value), self.limits.max_cell_chars))
                usable = False
            existing = self.fields.get(meaning.field)
            if existing is None:
                self.fields[meaning.field] = _Field(key, value, meaning.unit_hint, usable)
            elif not _same_value(existing.value, value):
                self.problems.append(p.conflicting_fields(key, existing.key, value))
        self.chinese = chinese_keys > 0

    def label(self, name: str) -> str:
        """How to name a field in a message: the submission's own key, or the field in its language."""
        found = self.fields.get(name)
        if found is not None:
            return found.key
        return FIELD_NAMES_ZH.get(name, name) if self.chinese else name

    def _present(self, name: str, required: bool, why: tuple[str, str] = ("", "")) -> _Field | None:
        found = self.fields.get(name)
        if found is not None and not found.usable:
            return None
        if found is None or _blank(found.value):
            if required:
                self.problems.append(p.missing_field(self.label(name), *why))
            return None
        return found

    def given(self, name: str) -> bool:
        """Whether the submission carries a non-empty value (usable or not) for the field."""
        found = self.fields.get(name)
        return found is not None and not _blank(found.value)

    def first_given(self, *names: str) -> str:
        """The first of `names` the submission carries (for fields with a fallback), else the first."""
        return next((name for name in names if name in self.fields), names[0])

    # --- typed readers ---------------------------------------------------------------------

    def text(self, name: str, *, required: bool = False, max_chars: int | None = None) -> str | None:
        """Text as written, whitespace squeezed (numbers from spreadsheet cells become text)."""
        found = self._present(name, required)
        if found is None:
            return None
        value = found.value
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            self.problems.append(p.wrong_type(found.key, value, "文字", "text"))
            return None
        text = squeeze(value if isinstance(value, str) else _number_text(value))
        limit = max_chars or self.limits.max_cell_chars
        if len(text) > limit:
            self.problems.append(p.too_long(found.key, value, len(text), limit))
            return None
        return text

    def name(self, name: str, *, required: bool = False) -> str | None:
        """A short name or code, in half-width forms (七年级３班 -> 七年级3班)."""
        text = self.text(name, required=required, max_chars=self.limits.max_name_chars)
        return tidy(text) if text else None

    def free_text(self, name: str, *, max_chars: int | None = None, required: bool = False) -> str | None:
        text = self.text(name, max_chars=max_chars, required=required)
        return self.ctx.mask(text) if text else None

    def quantity(self, name: str, *, required: bool = True) -> Quantity | None:
        found = self._present(name, required)
        if found is None:
            return None
        value = found.value
        parsed: Quantity | NotANumber
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            self.problems.append(p.wrong_type(found.key, value, "数值", "a number"))
            return None
        parsed = parse_quantity(value) if isinstance(value, str) else quantity_from_number(value)
        if isinstance(parsed, NotANumber):
            self.problems.append(_number_problem(found, parsed))
            return None
        return parsed

    def in_unit(self, name: str, quantity: Quantity, base_unit: str, owner: str) -> Decimal | None:
        """`quantity` in `base_unit`; a bare number takes the column's or `measure_unit`'s unit."""
        found = self.fields[name]
        default = found.unit_hint or self.text("measure_unit", max_chars=self.limits.max_name_chars)
        converted = in_base_unit(quantity, base_unit, default)
        if not isinstance(converted, UnitFault):
            return converted
        if converted.kind == "mismatch":
            self.problems.append(p.unit_mismatch(found.key, found.value, converted.spelling, base_unit, owner))
        elif converted.kind == "out_of_range":
            read_as = _amount_text(converted.amount, base_unit) if converted.amount is not None else None
            self.problems.append(p.value_out_of_range(found.key, found.value, _LIMIT_TEXT, read_as))
        elif converted.kind == "unknown":
            self.problems.append(p.unknown_measure_unit(found.key, found.value, converted.spelling, base_unit))
        else:
            self.problems.append(p.ambiguous_ratio(found.key, found.value))
        return None

    def count(self, name: str) -> int | None:
        """A head count (cases, deaths, injuries): absent is 0; `3`, `3人`, `三例` are 3."""
        found = self.fields.get(name)
        if found is not None and not found.usable:
            return None
        if found is None or _blank(found.value):
            return 0
        quantity = self.quantity(name)
        if quantity is None:
            return None
        spelling = quantity.spelling or found.unit_hint
        if spelling is not None and spelling not in _COUNT_SPELLINGS:
            self.problems.append(p.unknown_measure_unit(found.key, found.value, spelling, "人"))
            return None
        return self._whole(found, quantity.amount)

    def _whole(self, found: _Field, amount: Decimal) -> int | None:
        if amount < 0:
            self.problems.append(p.negative_value(found.key, found.value))
            return None
        if amount != amount.to_integral_value():
            self.problems.append(p.not_integer(found.key, found.value))
            return None
        if amount > self.limits.max_people:
            self.problems.append(
                p.implausible_value(
                    found.key,
                    found.value,
                    f"超过 {self.limits.max_people} 人",
                    f"more than {self.limits.max_people} people",
                )
            )
            return None
        return int(amount)

    def moment(self, name: str, *, required: bool = True, in_plan_year: bool = True) -> Moment | None:
        found = self._present(name, required)
        if found is None:
            return None
        value = found.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # 20230531
        if not isinstance(value, str | date):
            self.problems.append(p.wrong_type(found.key, value, "日期文字", "a date string"))
            return None
        parsed = parse_moment(value, self.ctx.plan.year, self.ctx.timezone)
        if isinstance(parsed, NotADate):
            self.problems.append(p.invalid_date(found.key, found.value, parsed.reason_zh, parsed.reason_en))
            return None
        return self._checked_moment(found, parsed, in_plan_year)

    def _checked_moment(self, found: _Field, moment: Moment, in_plan_year: bool) -> Moment | None:
        year = self.ctx.plan.year
        if in_plan_year and moment.local_date.year != year:
            self.problems.append(p.date_outside_plan_year(found.key, found.value, moment.local_date.isoformat(), year))
            return None
        received = self.ctx.received_at
        local_received = received.astimezone(self.ctx.timezone)
        late = (
            moment.at > received + self.limits.clock_skew
            if moment.has_time
            else moment.local_date > local_received.date()
        )
        if late:
            shown = moment.at.astimezone(self.ctx.timezone)
            written = shown.strftime("%Y-%m-%d %H:%M") if moment.has_time else moment.local_date.isoformat()
            self.problems.append(
                p.date_in_future(found.key, found.value, written, local_received.strftime("%Y-%m-%d %H:%M"))
            )
            return None
        return moment

    # --- kind and unit ---------------------------------------------------------------------

    def kind(self) -> Kind | None:
        if self.given("kind"):
            written = self.name("kind")
            kind = _KINDS.get(compact(written)) if written else None
            if written and kind is None:
                found = self.fields["kind"]
                accepted = ("progress/进度", "incident/事件", "measurement/测量", "activity/活动", "case/信访")
                self.problems.append(p.unknown_kind(found.key, found.value, accepted))
            return kind
        inferred = {kind for name, kind in _KIND_BY_FIELD.items() if self._present(name, required=False)}
        if "case" in inferred:  # a case number is the case's alone (its category is not an incident's)
            inferred = {"case"}
        if len(inferred) == 1:
            return inferred.pop()
        self.problems.append(
            p.missing_field(
                self.label("kind"), "应为 进度/事件/测量/活动", "progress, incident, measurement or activity"
            )
        )
        return None

    def unit(self) -> Unit | None:
        name = self.name("source", required=True)
        if name is None:
            return None
        found = self.ctx.registry.resolve(name)
        if isinstance(found, Unit):
            return found
        key, value = self.fields["source"].key, self.fields["source"].value
        problem = p.ambiguous_unit if found.ambiguous else p.unknown_unit
        self.problems.append(problem(key, value, found.candidates))
        return None


# --- the four kinds ------------------------------------------------------------------------


def _progress(s: _Submission, unit: Unit | None) -> Progress | None:
    indicator_field = s.first_given("indicator", "metric")
    found = _progress_target(s, indicator_field)
    target = found.target if found else None
    quantity = s.quantity("value")
    mode = _mode(s)
    when = s.moment("date")
    note = s.free_text("note")
    value = _progress_value(s, quantity, target, mode or "increment") if quantity and target else None
    if s.problems or unit is None or target is None or value is None or mode is None or when is None:
        return None
    return Progress(unit, target.id, float(value), target.unit, mode, when.at, note, found.match if found else None)


def _progress_target(s: _Submission, field_name: str) -> FoundTarget | None:
    name = s.text(field_name, required=True, max_chars=s.limits.max_name_chars)  # as written: the match quotes it
    if name is None:
        return None
    found = s.ctx.targets.find(name)
    key, value = s.fields[field_name].key, s.fields[field_name].value
    if isinstance(found, TargetLookupFailure):
        problem = p.ambiguous_target if found.ambiguous else p.unknown_target
        s.problems.append(problem(key, value, found.candidates))
        return None
    if found.target.kind is TargetKind.CONSTRAINT:
        s.problems.append(p.target_not_reportable(key, value, found.target.id))
        return None
    return found


def _progress_value(s: _Submission, quantity: Quantity, target: Target, mode: Mode) -> Decimal | None:
    found = s.fields["value"]
    if quantity.amount < 0 and target.kind is not TargetKind.GROWTH:
        s.problems.append(p.negative_value(found.key, found.value))
        return None
    value = s.in_unit("value", quantity, target.unit, f"{target.id}（{target.metric}）")
    if value is None:
        return None
    fault = _rate_fault(s.limits, target.kind, value) if target.unit == RATIO else _amount_fault(s, target, value, mode)
    if fault is not None:
        s.problems.append(p.implausible_value(found.key, found.value, *fault))
        return None
    return value


def _amount_fault(s: _Submission, target: Target, value: Decimal, mode: Mode) -> tuple[str, str] | None:
    """Why an amount cannot be one report towards `target` (Chinese, English), or None."""
    cumulative = mode == "cumulative"
    factor = s.limits.cumulative_factor if cumulative else s.limits.implausible_factor
    if target.value <= 0 or value <= Decimal(str(target.value)) * Decimal(str(factor)):
        return None
    what_zh, what_en = ("累计", "a cumulative total") if cumulative else ("一次报送", "one report")
    return (
        f"{what_zh} {value:f} {target.unit}，超过全年目标 {target.value:g} {target.unit} 的 {factor:g} 倍",
        f"{what_en} of {value:f} {target.unit} is more than {factor:g} times "
        f"the whole annual target of {target.value:g} {target.unit}",
    )


def _rate_fault(limits: Limits, kind: TargetKind | None, value: Decimal) -> tuple[str, str] | None:
    """Why a fraction cannot be a rate (0–100%) or, for a growth target, a growth (Chinese, English)."""
    if kind is TargetKind.GROWTH:
        low, high = limits.growth_min, limits.growth_max
        if Decimal(str(low)) <= value <= Decimal(str(high)):
            return None
        return (
            f"增幅应在 {low:.0%} 至 {high:.0%} 之间（降幅不会超过 100%，一年增长逾 {high:.0%} 应是录入错误）",
            f"a growth lies between {low:.0%} and {high:.0%} (a decline cannot exceed 100%; "
            f"more than {high:.0%} in a year is a typing error)",
        )
    if 0 <= value <= 1:
        return None
    return "比率应在 0–100% 之间", "a rate lies within 0–100%"


def _mode(s: _Submission) -> Mode | None:
    if not s.given("mode"):
        return "increment"
    written = s.name("mode")
    mode = _MODES.get(compact(written)) if written else None
    if written and mode is None:
        s.problems.append(p.invalid_mode(s.fields["mode"].key, s.fields["mode"].value))
    return mode


def _incident(s: _Submission, unit: Unit | None) -> Incident | None:
    category = _category(s)
    disease = _disease(s, category)
    grade = _grade(s)
    cases, deaths, injuries = s.count("cases"), s.count("deaths"), s.count("injuries")
    if category is IncidentCategory.INFECTIOUS_DISEASE and cases == 0:
        _require_cases(s)
    class_name = _class_name(s)
    occurred = s.moment(s.first_given("occurred_at", "date"))
    reported_at = _reported_at(s, occurred)
    summary = s.free_text("summary")
    if (
        s.problems
        or unit is None
        or category is None
        or occurred is None
        or reported_at is None
        or cases is None
        or deaths is None
        or injuries is None
    ):
        return None
    return Incident(
        unit=unit,
        category=category.value,
        disease=disease,
        grade=grade,
        cases=cases,
        deaths=deaths,
        injuries=injuries,
        class_name=class_name,
        occurred_at=occurred.at,
        reported_at=reported_at,
        summary=summary,
    )


def _category(s: _Submission) -> IncidentCategory | None:
    written = s.name("category", required=True)
    if written is None:
        return None
    category = parse_category(written)
    if category is None:
        s.problems.append(p.unknown_category(s.fields["category"].key, s.fields["category"].value, category_names()))
    return category


def _disease(s: _Submission, category: IncidentCategory | None) -> str | None:
    infectious = category is IncidentCategory.INFECTIOUS_DISEASE
    why = ("传染病事件须填写病种（如 流感、诺如病毒、手足口病）", "an infectious-disease incident needs its disease")
    if infectious and s._present("disease", required=True, why=why) is None:
        return None
    written = s.name("disease")
    return canonical_disease(written) if written else None


def _require_cases(s: _Submission) -> None:
    found = s.fields.get("cases")
    if found is None or not s.given("cases"):
        s.problems.append(
            p.missing_field(
                s.label("cases"), "传染病事件须填写病例数", "an infectious-disease incident needs its case count"
            )
        )
    else:
        s.problems.append(
            p.implausible_value(
                found.key,
                found.value,
                "传染病事件的病例数至少为 1",
                "an infectious-disease incident has at least one case",
            )
        )


def _grade(s: _Submission) -> Grade | None:
    written = s.name("grade")
    if written is None:
        return None
    grade = parse_grade(written)
    if grade is None:
        s.problems.append(p.invalid_grade(s.fields["grade"].key, s.fields["grade"].value))
    return grade


def _reported_at(s: _Submission, occurred: Moment | None) -> datetime | None:
    """When the unit reported: as written, else the time ingest received it.

    A report date without a time is taken as the earliest instant consistent with it — the start of
    that local day, or the occurrence if later that day — so a missing time never makes a unit look late.
    """
    if not s.given("reported_at"):
        return s.ctx.received_at
    reported = s.moment("reported_at", required=False, in_plan_year=False)
    if reported is None or occurred is None:
        return None
    found = s.fields["reported_at"]
    too_early = reported.local_date < occurred.local_date if not reported.has_time else reported.at < occurred.at
    if too_early:
        shown = occurred.at.astimezone(s.ctx.timezone).strftime("%Y-%m-%d %H:%M")
        s.problems.append(p.reported_before_occurred(found.key, found.value, shown))
        return None
    return reported.at if reported.has_time else max(reported.at, occurred.at)


def _measurement(s: _Submission, unit: Unit | None) -> Measurement | None:
    metric_field = s.first_given("metric", "indicator")
    found = _metric(s, metric_field)
    spec = found.spec if found else None
    quantity = s.quantity("value")
    class_name = _class_name(s)
    when = s.moment("date")
    value = _measured_value(s, quantity, spec) if quantity and spec else None
    if s.problems or unit is None or spec is None or value is None or when is None:
        return None
    return Measurement(
        unit=unit,
        metric=spec.metric,
        metric_zh=spec.metric_zh,
        target_id=spec.target.id if spec.target else None,
        value=float(value),
        measure_unit=spec.unit,
        class_name=class_name,
        occurred_at=when.at,
        target_match=found.match if found else None,
    )


def _metric(s: _Submission, field_name: str) -> FoundMetric | None:
    name = s.text(field_name, required=True, max_chars=s.limits.max_name_chars)  # as written: the match quotes it
    if name is None:
        return None
    found = s.ctx.targets.find_metric(name)
    if isinstance(found, FoundMetric):
        return found
    key, value = s.fields[field_name].key, s.fields[field_name].value
    problem = p.ambiguous_target if found.ambiguous else p.unknown_metric
    s.problems.append(problem(key, value, found.candidates))
    return None


def _measured_value(s: _Submission, quantity: Quantity, spec: MetricSpec) -> Decimal | None:
    value = s.in_unit("value", quantity, spec.unit, spec.metric_zh)
    if value is None:
        return None
    found = s.fields["value"]
    fault = _implausible_measurement(s.limits, spec, value)
    if fault is not None:
        code, why_zh, why_en = fault
        problem = p.implausible_value(found.key, found.value, why_zh, why_en)
        if code == "negative_value":
            problem = p.negative_value(found.key, found.value)
        elif code == "not_integer":
            problem = p.not_integer(found.key, found.value)
        s.problems.append(problem)
        return None
    return value


def _implausible_measurement(limits: Limits, spec: MetricSpec, value: Decimal) -> tuple[str, str, str] | None:
    if spec.metric == CLASS_SIZE:
        if value != value.to_integral_value():
            return "not_integer", "", ""
        if not limits.class_size_min <= value <= limits.class_size_max:
            low, high = limits.class_size_min, limits.class_size_max
            return "implausible_value", f"班额应在 {low}–{high} 人之间", f"a class has {low}–{high} pupils"
        return None
    if spec.metric == DAILY_EXERCISE_MINUTES:
        if not 0 <= value <= Decimal(str(limits.exercise_minutes_max)):
            hi = f"{limits.exercise_minutes_max:g}"
            return (
                "implausible_value",
                f"每天运动时间应在 0–{hi} 分钟之间",
                f"daily exercise lies within 0–{hi} minutes",
            )
        return None
    if spec.unit == RATIO:
        fault = _rate_fault(limits, spec.target.kind if spec.target else None, value)
        return None if fault is None else ("implausible_value", *fault)
    if value < 0:
        return "negative_value", "", ""
    return None


def _class_name(s: _Submission) -> str | None:
    name = s.name("class")
    return s.ctx.mask(name) if name else None


def _activity(s: _Submission, unit: Unit | None) -> Activity | None:
    name = s.free_text("activity", max_chars=s.limits.max_name_chars, required=True)
    when = s.moment("date")
    note = s.free_text("note")
    if s.problems or unit is None or name is None or when is None:
        return None
    target = s.ctx.targets.match_activity(name)
    return Activity(unit, name, target.id if target else None, when.at, note)


def _case(s: _Submission, unit: Unit | None) -> Case | None:
    """One action on a 信访 case or 12345 work order: the case number, channel, action and its time."""
    case_id = s.name("case_id", required=True)
    channel = _choice(
        s, "channel", parse_channel, what_zh="信访渠道", what_en="channel", accepted=CHANNEL_NAMES, required=True
    )
    action = _choice(
        s, "action", parse_action, what_zh="办理环节", what_en="action", accepted=ACTION_NAMES, required=True
    )
    when = s.moment(s.first_given("at", "date"))
    category = s.name("category") or ""
    satisfaction = _choice(
        s, "satisfaction", parse_satisfaction, what_zh="满意度", what_en="satisfaction", accepted=SATISFACTION_NAMES
    )
    limit = _positive_days(s, "limit_working_days")
    extension = _positive_days(s, "extension_days")
    reason = s.free_text("reason")
    forwarded_to = s.name("forwarded_to")
    note = s.free_text("note")
    if s.problems or unit is None or case_id is None or channel is None or action is None or when is None:
        return None
    return Case(
        unit=unit,
        case_id=s.ctx.mask(case_id),
        channel=channel.value,
        action=action.value,
        occurred_at=when.at,
        category=s.ctx.mask(category) if category else "",
        satisfaction=satisfaction.value if satisfaction else None,
        limit_working_days=limit,
        extension_days=extension,
        reason=reason,
        forwarded_to=s.ctx.mask(forwarded_to) if forwarded_to else None,
        note=note,
    )


def _choice(
    s: _Submission,
    name: str,
    parse: Callable[[str], _Choice | None],
    *,
    what_zh: str,
    what_en: str,
    accepted: tuple[str, ...],
    required: bool = False,
) -> _Choice | None:
    written = s.name(name, required=required)
    if written is None:
        return None
    chosen = parse(written)
    if chosen is None:
        found = s.fields[name]
        s.problems.append(p.invalid_choice(found.key, found.value, what_zh, what_en, accepted))
    return chosen


#: The longest time limit or extension a case may carry, in days: a year (no 信访 or 12345 time limit
#: comes near it; a larger figure is a typing error, e.g. a date typed into the days column).
_MAX_CASE_DAYS = 366


def _positive_days(s: _Submission, name: str) -> int | None:
    if not s.given(name):
        return None
    quantity = s.quantity(name)
    if quantity is None:
        return None
    found = s.fields[name]
    spelling = quantity.spelling or found.unit_hint
    if spelling is not None and spelling not in ("天", "日", "个工作日", "工作日"):
        s.problems.append(p.unknown_measure_unit(found.key, found.value, spelling, "工作日"))
        return None
    amount = quantity.amount
    if amount != amount.to_integral_value():
        s.problems.append(p.not_integer(found.key, found.value))
        return None
    if not 1 <= amount <= _MAX_CASE_DAYS:
        s.problems.append(
            p.implausible_value(
                found.key, found.value, f"应在 1–{_MAX_CASE_DAYS} 天之间", f"not within 1-{_MAX_CASE_DAYS} days"
            )
        )
        return None
    return int(amount)


_BUILDERS: dict[Kind, Callable[[_Submission, Unit | None], Normalised | None]] = {
    "progress": _progress,
    "incident": _incident,
    "measurement": _measurement,
    "activity": _activity,
    "case": _case,
}


# --- small helpers -------------------------------------------------------------------------


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same_value(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return tidy(a) == tidy(b)
    return a == b


_LIMIT_TEXT = f"{MAX_MAGNITUDE:.0e}"


def _number_problem(found: _Field, fault: NotANumber) -> Problem:
    if fault.code == "not_finite":
        return p.not_finite(found.key, found.value)
    if fault.code == "value_out_of_range":
        return p.value_out_of_range(found.key, found.value, _LIMIT_TEXT)
    return p.invalid_number(found.key, found.value, fault.reason_zh, fault.reason_en)


def _amount_text(amount: Decimal, unit: str) -> str:
    """An amount as read, for a message: `1.00e+320 平方米`, `1.00e+294%`."""
    return f"{amount * 100:.2e}%" if unit == RATIO else f"{amount:.2e} {unit}"


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
