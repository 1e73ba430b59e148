"""Activities: the plan's dated duties and quarterly meetings, and the routine work units report monthly.

Dated duties (安全日, 教师节, 推普周, 宪法晨读 …) are held on or just before their day — national days
that fall on a weekend are marked on the Friday before — and reported that afternoon or within a few
working days; the safety days are also reported by a dozen schools each. One duty is never reported
and one is held a week or two late, so the deadline rule has something to say. The quarterly
意识形态分析研判专题会 is held late in each quarter, except one quarter it is forgotten.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from duban_contracts.plan import Plan, Target, TargetKind

from .calendar import is_workday, local, month_end, office_time, workday_on_or_after, workday_on_or_before
from .drafts import Draft
from .roster import Reporter, Roster

#: What each section does month by month when it has no figure to report (and sometimes besides).
ROUTINE: dict[str, tuple[str, ...]] = {
    "党建办公室": ("主题党日活动", "党风廉政建设专题会", "党员集中学习"),
    "办公室": ("局务会", "政务信息报送培训", "文明城市创建督查"),
    "组织人事股": ("教职工档案专审", "干部任免调配", "教师资格认定"),
    "计划财务股": ("学校经费预算监管检查", "政府采购管理检查", "学校债务化解督查"),
    "基础教育股": ("控辍保学动态监测", "招生入学服务区域调整", "教学常规督查"),
    "安全稳定股": ("校园安全隐患排查", "信访案件处置", "安全专题讲座"),
    "科技股": ("科技型企业走访", "科技项目申报指导"),
    "体育股": ("全民健身赛事筹备", "体彩站点巡查"),
    "督导室": ("责任督学挂牌督导", "重点工作常态督导", "幼儿园办园行为督导评估"),
    "资助中心": ("学生资助政策宣传", "资助资金发放核查", "资助业务培训"),
    "教研室": ("推门听课", "送教下乡", "课堂诊测"),
    "电教馆": ("班班通设备运维巡检", "信息化竞技活动"),
    "装备中心": ("实验室危化品安全检查", "教育装备质量检测", "自制教具评选"),
    "政策法规股": ("八五普法宣传", "双随机一公开检查"),
    "校外培训监管股": ("校外培训机构专项检查", "双减工作督查", "校外培训联合执法"),
    "职成教股": ("社区教育能者为师课程推介", "老年教育活动", "全民阅读活动"),
    "德育股": ("新时代好少年学习宣传", "学雷锋志愿服务", "青少年心理健康测评"),
    "体卫艺股": ("校园环境消毒消杀督查", "艺术素质测评", "传染病防控检查"),
    "后勤服务中心": ("学校食堂食品安全检查", "营养改善计划核查", "食堂从业人员培训"),
    "工会": ("困难教职工慰问", "书香三八读书活动", "教职工之家创建"),
    "招生考试办公室": ("国家教育考试组考", "考务人员培训"),
    "语言文字工作办公室": ("语言文字规范化检查", "中华经典诵读活动"),
}
_SUMMER = ("暑期防溺水安全教育", "暑期安全家访", "防溺水隐患巡查")
#: Dated duties schools also hold and report themselves.
_SCHOOL_DUTIES = frozenset(
    {
        "t24_national_security_day",
        "t24_disaster_prevention_day",
        "t24_fire_safety_day",
        "t24_traffic_safety_day",
        "t11_constitution_morning_reading",
    }
)
_QUARTERS_ZH = ("一", "二", "三", "四")


def routine_activity(rng: random.Random, reporter: Reporter, filed: date, day: date) -> Draft:
    """A section's routine work in the month that ends on (or, in December, runs to) `day`."""
    names = ROUTINE.get(reporter.unit.name, ("工作例会",))
    name = names[day.month % len(names)]
    held = _workday_in_month(rng, day)
    return _draft(rng, reporter, name, held=held, filed=filed, target=None, topic="monthly")


def summer_activity(rng: random.Random, reporter: Reporter, filed: date, day: date) -> Draft:
    name = _SUMMER[day.month % len(_SUMMER)]
    held = day.replace(day=rng.randint(3, 25))
    return _draft(rng, reporter, name, held=held, filed=filed, target=None, topic="monthly")


def plan_activities(seed: int, plan: Plan, roster: Roster) -> tuple[dict[str, str], list[Draft]]:
    """The dated duties and periodic meetings, with the one missed and the one held late named."""
    rng = random.Random(f"{seed}/activities")
    dated = [p.target for p in plan.placed_targets() if p.target.kind is TargetKind.DATED_EVENT]
    watched = [t for t in dated if plan.published is None or (t.due or plan.year_end) >= plan.published]
    missed, late = rng.sample(sorted(watched, key=lambda t: t.id), k=2) if len(watched) >= 2 else (None, None)
    outcome = {t.id: "held" for t in dated}
    drafts: list[Draft] = []
    for target in dated:
        if target is missed:
            outcome[target.id] = "missed"
            continue
        if target is late:
            outcome[target.id] = "late"
        drafts.extend(_dated_duty(rng, target, roster, late=target is late, year=plan.year))
    for placed in plan.placed_targets():
        if placed.target.kind is TargetKind.PERIODIC and placed.target.schedule is not None:
            skipped, meetings = _meetings(rng, placed.target, roster, plan)
            outcome[placed.target.id] = f"missed:{skipped}" if skipped else "held"
            drafts.extend(meetings)
    return outcome, drafts


def _dated_duty(rng: random.Random, target: Target, roster: Roster, *, late: bool, year: int) -> Iterator[Draft]:
    due = target.due or date(year, 12, 31)
    owner = roster.section((target.responsible or ["办公室"])[0])
    if target.start is not None:
        held = workday_on_or_after(target.start + timedelta(days=rng.randint(0, 3)))
    else:
        held = workday_on_or_before(due)
    if late:
        held = workday_on_or_after(due + timedelta(days=rng.randint(8, 15)))
    yield _draft(
        rng,
        owner,
        _duty_name(rng, target, year),
        held=held,
        filed=_filing_day(rng, held),
        target=target,
        topic="dated_event",
    )
    if late or target.id not in _SCHOOL_DUTIES:
        return
    for school in rng.sample(list(roster.reporting_schools), k=min(10, len(roster.reporting_schools))):
        school_held = held if held <= due else workday_on_or_before(due)
        name = _duty_name(rng, target, year)
        yield _draft(
            rng, school, name, held=school_held, filed=_filing_day(rng, school_held), target=target, topic="dated_event"
        )


def _meetings(rng: random.Random, target: Target, roster: Roster, plan: Plan) -> tuple[int | None, list[Draft]]:
    owner = roster.section((target.responsible or ["办公室"])[0])
    year = plan.year
    watched = [q for q in range(1, 5) if plan.published is None or month_end(year, 3 * q) >= plan.published]
    skipped = rng.choice(watched) if watched else None
    drafts = []
    for quarter in range(1, 5):
        if quarter == skipped:
            continue
        held = workday_on_or_before(date(year, 3 * quarter, rng.randint(18, 28)))
        name = f"{year}年第{_QUARTERS_ZH[quarter - 1]}季度{target.metric}"
        drafts.append(
            _draft(rng, owner, name, held=held, filed=_filing_day(rng, held), target=target, topic="periodic")
        )
    return skipped, drafts


def _duty_name(rng: random.Random, target: Target, year: int) -> str:
    base = rng.choice([target.metric, *(a for a in target.aliases if a.isalnum() and not a.isascii())])
    prefix = rng.choice(("", f"{year}年", "巴州区"))
    suffix = "" if base.endswith(("活动", "教育", "周", "月")) else rng.choice(("", "活动", "主题活动"))
    return f"{prefix}{base}{suffix}"


def _filing_day(rng: random.Random, held: date) -> date:
    return held if rng.random() < 0.5 else workday_on_or_after(held + timedelta(days=rng.randint(1, 3)))


def _workday_in_month(rng: random.Random, day: date) -> date:
    days = [d for d in (day.replace(day=n) for n in range(1, day.day + 1)) if is_workday(d)]
    return rng.choice(days) if days else day


def _draft(
    rng: random.Random, reporter: Reporter, name: str, *, held: date, filed: date, target: Target | None, topic: str
) -> Draft:
    """Reported the afternoon it was held, or at some moment of a later working day."""
    at = local(filed, 16, rng.randint(0, 59)) if filed == held else office_time(rng, filed)
    fields: dict[str, object] = {"activity": name, "date": held}
    if target is not None:
        fields["target_id"] = target.id
    return Draft(at, reporter, "activity", fields, topic=topic, key=name)
