"""`simulate_year`: a plausible year of a district's reporting, as deliveries in the order they are sent.

Deterministic: everything is drawn from `random.Random` seeded with the seed (one stream per part of
the year, so that changing one part leaves the others as they were), and nothing reads a clock. The
same seed gives the same deliveries, byte for byte; `until` cuts the same year short.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from duban_contracts.plan import Plan, Target
from duban_contracts.reporting_units import ReportingUnit

from .activities import plan_activities
from .calendar import local
from .cases import plan_cases
from .drafts import Amount, Draft
from .dress import Vocabulary, dress
from .files import Cell, Sheet, csv_bytes, xlsx_bytes
from .incidents import plan_incidents
from .measurements import class_size_reports, school_monthly_reports
from .model import (
    DUPLICATE_CONTENT,
    DUPLICATE_ID,
    SHANGHAI,
    VALID,
    Delivery,
    FileUpload,
    SimulatedYear,
    Submission,
    delivery_order,
    malformed,
)
from .noise import DUPLICATE_CONTENT_SHARE, DUPLICATE_ID_SHARE, MALFORMED_SHARE, blunder_for, correction_delay
from .progress import SCHOOL_PROJECTS, plan_progress
from .roster import Reporter, build_roster

#: Schools that send their September class counts as a spreadsheet, and in which form.
_CLASS_SIZE_FILES = ("xlsx", "xlsx", "xlsx", "xlsx", "csv:gb18030", "csv:gb18030", "csv:utf-8-sig")
#: The section that files its quarter-end monthly reports as a workbook.
_WORKBOOK_SECTION = "科技股"
_QUARTER_END_MONTHS = frozenset({3, 6, 9, 12})
_MODE_ZH = {"increment": "新增", "cumulative": "累计"}


def simulate_year(seed: int, *, plan: Plan, units: Sequence[ReportingUnit], until: date | None = None) -> SimulatedYear:
    """The year of `plan` as `units` report it: JSON submissions and spreadsheets, noise included."""
    protected = frozenset(alias for alias, *_ in SCHOOL_PROJECTS)
    protected_names = frozenset(u.name for u in units if u.name in protected or protected & set(u.aliases))
    roster = build_roster(seed, units, protected_names)
    fates, progress = plan_progress(seed, plan, roster)
    outcomes, activities = plan_activities(seed, plan, roster)
    drafts = sorted(
        [
            *progress,
            *activities,
            *school_monthly_reports(seed, plan, roster),
            *class_size_reports(seed, plan, roster),
            *plan_incidents(seed, plan, roster),
        ],
        key=Draft.sort_key,
    )
    uploads, drafts = _spreadsheets(seed, drafts, Vocabulary(plan), plan.year)
    deliveries: list[Delivery] = [
        *uploads,
        *_submissions(seed, drafts, Vocabulary(plan), plan.year),
        *plan_cases(seed, plan.year, roster),
    ]
    deliveries.sort(key=delivery_order)
    if until is not None:
        deliveries = [d for d in deliveries if d.local_day <= until]
    return SimulatedYear(seed, plan.year, tuple(deliveries), {**fates, **outcomes})


# --- JSON submissions -----------------------------------------------------------------------------


def _submissions(seed: int, drafts: Sequence[Draft], words: Vocabulary, year: int) -> list[Submission]:
    rng = random.Random(f"{seed}/write")
    ids = _Ids(rng)
    year_closes = local(date(year, 12, 31), 18)
    sent: list[Submission] = []
    for draft in drafts:
        final = draft
        blunder = blunder_for(rng, draft) if rng.random() < MALFORMED_SHARE else None
        if blunder is not None:  # the first attempt is refused; the unit corrects it and sends it again
            body = (
                _cut_off(dress(draft, rng, words))
                if blunder.mangle is None
                else _json(dress(draft, rng, words, blunder.mangle))
            )
            sent.append(Submission(draft.at, ids.next(draft.reporter, draft.at), body, malformed(blunder.code)))
            corrected = draft.at + correction_delay(rng, draft)
            final = _resent(draft, corrected if corrected < year_closes else draft.at + timedelta(minutes=15))
        body = _json(dress(final, rng, words))
        sent.append(Submission(final.at, ids.next(final.reporter, final.at), body, VALID, final.expected))
    return sent + _duplicates(rng, [s for s in sent if s.intent == VALID], ids, year_closes)


def _resent(draft: Draft, at: datetime) -> Draft:
    return Draft(at, draft.reporter, draft.kind, draft.fields, draft.topic, draft.key)


def _duplicates(rng: random.Random, valid: Sequence[Submission], ids: _Ids, year_closes: datetime) -> list[Submission]:
    """Retries under the same id, and the same report sent again under a new one."""
    copies: list[Submission] = []
    for submission in valid:
        roll = rng.random()
        if roll < DUPLICATE_ID_SHARE:
            later = max(submission.at, min(submission.at + timedelta(minutes=rng.randint(2, 2880)), year_closes))
            copies.append(Submission(later, submission.submission_id, submission.body, DUPLICATE_ID))
        elif roll < DUPLICATE_ID_SHARE + DUPLICATE_CONTENT_SHARE and submission.payload is not None:
            later = max(submission.at, min(submission.at + timedelta(hours=rng.randint(1, 72)), year_closes))
            payload = _restamped(submission.payload, submission.at, later)
            copies.append(Submission(later, ids.fresh(), _json(payload), DUPLICATE_CONTENT))
    return copies


def _restamped(payload: dict[str, object], before: datetime, after: datetime) -> dict[str, object]:
    """The same report with its 填报时间 moved to the resend (the stamp's format kept)."""
    stamped = dict(payload)
    for key in ("submitted_at", "填报时间", "提交时间"):
        if key in stamped:
            stamped[key] = _same_format(str(stamped[key]), before, after)
    return stamped


def _same_format(text: str, before: datetime, after: datetime) -> str:
    before, after = before.astimezone(SHANGHAI), after.astimezone(SHANGHAI)
    if "T" in text:
        return after.isoformat(timespec="seconds")
    if "年" in text:
        return f"{after.year}年{after.month}月{after.day}日 {after.hour}时{after.minute:02d}分"
    return after.strftime("%Y-%m-%d %H:%M")


def _json(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _cut_off(payload: dict[str, object]) -> bytes:
    """A message truncated in transit: not JSON any more."""
    text = _json(payload)
    return text[: max(12, len(text) // 2)]


class _Ids:
    """Message ids as integrations make them: UUIDs, or the unit's own readable numbering."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counts: Counter[tuple[str, date]] = Counter()

    def next(self, reporter: Reporter, at: datetime) -> str:
        if reporter.style.uuid_ids:
            return self.fresh()
        day = at.astimezone(SHANGHAI).date()
        self.counts[(reporter.id, day)] += 1
        return f"{reporter.id}-{day:%Y%m%d}-{self.counts[(reporter.id, day)]:03d}"

    def fresh(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


# --- spreadsheets ---------------------------------------------------------------------------------


def _spreadsheets(
    seed: int, drafts: Sequence[Draft], words: Vocabulary, year: int
) -> tuple[list[FileUpload], list[Draft]]:
    """Some reports travel as files: class counts from a few schools, one section's quarter-end reports."""
    rng = random.Random(f"{seed}/files")
    by_school: dict[str, list[Draft]] = defaultdict(list)
    for draft in drafts:
        if draft.topic == "class_size" and draft.at.month == 9:
            by_school[draft.reporter.id].append(draft)
    chosen = rng.sample(sorted(by_school), k=min(len(_CLASS_SIZE_FILES), len(by_school)))
    uploads: list[FileUpload] = []
    bundled: set[int] = set()
    for school_id, form in zip(chosen, _CLASS_SIZE_FILES, strict=False):
        group = by_school[school_id]
        uploads.append(_class_size_file(rng, group, form, broken=len(uploads) == 1))
        bundled.update(id(d) for d in group)
    for group in _workbook_sessions(drafts):
        uploads.append(_progress_workbook(group, words))
        bundled.update(id(d) for d in group)
    again = uploads[0]
    resend = local(again.at.date() + timedelta(days=1), 9, rng.randint(0, 59))
    uploads.append(FileUpload(resend, again.name, again.data, again.source, again.kind, DUPLICATE_ID))
    return uploads, [d for d in drafts if id(d) not in bundled]


def _class_size_file(rng: random.Random, group: Sequence[Draft], form: str, *, broken: bool) -> FileUpload:
    school = group[0].reporter
    at = group[0].at
    stamp = at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    measured = _day(group[0].fields["date"])
    rows: list[tuple[Cell, ...]] = []
    sizes: list[int] = []
    for n, draft in enumerate(group, start=1):
        sizes.append(int(str(draft.fields["value"])))
        note = "含随班就读学生" if rng.random() < 0.15 else ""
        rows.append((n, str(draft.fields["class"]), "班额", sizes[-1], measured, stamp, note))
    malformed_rows: dict[int, str] = {}
    if broken:  # one class not counted yet when the sheet was sent
        rows.append((len(rows) + 1, "九年级7班", "班额", "待定", measured, stamp, "转学手续未办结"))
        malformed_rows[Sheet.FIRST_DATA_ROW + len(rows) - 1] = "invalid_number"
    sheet = Sheet(
        title=f"{school.unit.name}{at.year}年秋季学期班额统计表",
        preamble=f"填报单位：{school.unit.name}（盖章）    填表人：教务处",
        header=("序号", "班级", "测量项目", "测量值（人）", "测量日期", "填报时间", "备注"),
        rows=tuple(rows),
        total=("", "合计", "", sum(sizes), "", "", ""),
    )
    if form == "xlsx":
        data, suffix = xlsx_bytes(sheet, at), "xlsx"
    else:
        data, suffix = csv_bytes(sheet, form.removeprefix("csv:")), "csv"
    name = f"{school.unit.name}{at.year}年秋季班额统计.{suffix}"
    return FileUpload(at, name, data, school.style.source, "measurement", VALID, malformed_rows)


def _workbook_sessions(drafts: Sequence[Draft]) -> Iterable[list[Draft]]:
    sessions: dict[date, list[Draft]] = defaultdict(list)
    for draft in drafts:
        if draft.reporter.unit.name == _WORKBOOK_SECTION and draft.kind == "progress" and draft.topic == "monthly":
            day = draft.fields["date"]
            if isinstance(day, date) and day.month in _QUARTER_END_MONTHS:
                sessions[draft.at.date()].append(draft)
    return [sessions[day] for day in sorted(sessions)]


def _progress_workbook(group: Sequence[Draft], words: Vocabulary) -> FileUpload:
    section = group[0].reporter
    at = group[0].at
    stamp = at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    rows: list[tuple[Cell, ...]] = []
    for n, draft in enumerate(group, start=1):
        amount, target = draft.fields["amount"], draft.fields["indicator"]
        if not isinstance(amount, Amount) or not isinstance(target, Target):
            raise TypeError(f"not a progress draft: {draft}")
        unit, figure = (amount.unit, amount.value) if amount.unit != "元" else ("万元", amount.value / 10_000)
        mode = _MODE_ZH[str(draft.fields["mode"])]
        note = str(draft.fields.get("note") or "")
        rows.append((n, words.names(target)[0], unit, _number(figure), mode, _day(draft.fields["date"]), stamp, note))
    title_month = _day(group[0].fields["date"]).month
    sheet = Sheet(
        title=f"{section.unit.name}{at.year}年{title_month}月重点指标进展情况表",
        preamble=f"填报单位：{section.unit.name}    审核人：分管领导",
        header=("序号", "指标名称", "计量单位", "完成数", "统计方式", "日期", "填报时间", "备注"),
        rows=tuple(rows),
    )
    name = f"{section.unit.name}{at.year}年{title_month}月工作进展.xlsx"
    return FileUpload(at, name, xlsx_bytes(sheet, at), section.style.source, "progress", VALID)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _day(value: object) -> date:
    if not isinstance(value, date):
        raise TypeError(f"not a date: {value!r}")
    return value
