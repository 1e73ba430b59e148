"""The bundled 2023 Bazhou plan data: structure, spot-checked figures, and faithfulness to the seed text."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from duban_contracts.plan import Comparator, Plan, TargetKind, load_plan
from duban_contracts.units import RATIO

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_TEXT = REPO_ROOT / "tests" / "data" / "plans" / "bazhou-2023.txt"  # the customer's plan text, verbatim
YEAR_END = date(2023, 12, 31)

GE, GT, LE = Comparator.GE, Comparator.GT, Comparator.LE
K = TargetKind

SECTION_TITLES = [
    ("一", "深化党建引领,筑牢战斗堡垒"),
    ("二", "夯实教育基础,改善办学条件"),
    ("三", "加快教育现代化,办人民满意教育"),
    ("四", "坚持德育为首,创新育人途径"),
    ("五", "狠抓队伍建设,提升干部素质"),
    ("六", "坚守底线思维,维护校园平安"),
    ("七", "办好民生实事,践行教育惠民"),
    ("八", "加快创新驱动,培强发展动能"),
    ("九", "发展体育事业,推进全民健身"),
]

# id -> (value, unit, comparator, kind, effective due)
SPOT_CHECKS: dict[str, tuple[float, str, Comparator, TargetKind, date]] = {
    "t02_principal_responsibility_schools": (58, "所", GE, K.LEVEL, YEAR_END),
    "t02_party_activists": (150, "人", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t02_party_affairs_training": (1, "次", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t04_ideology_meeting_quarterly": (1, "次", GE, K.PERIODIC, YEAR_END),
    "t05_edu_spending_no_decrease": (0, RATIO, GE, K.GROWTH, YEAR_END),
    "t06_village_teaching_points_closed": (21, "个", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t06_senior_high_adjusted": (1, "所", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t07_school_building_new": (15_400, "平方米", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t07_school_building_repair": (13_800, "平方米", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t07_sports_ground_new": (9_000, "平方米", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t07_compulsory_places_new": (2_780, "个", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t08_banbantong_sets": (100, "套", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t08_it_teacher_training": (300, "人次", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t10_class_size_max": (55, "人", LE, K.CONSTRAINT, YEAR_END),
    "t11_constitution_morning_reading": (1, "次", GE, K.DATED_EVENT, date(2023, 12, 4)),
    "t12_preschool_publicity_month": (1, "次", GE, K.DATED_EVENT, date(2023, 6, 20)),
    "t12_kindergarten_municipal": (2, "所", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t12_undergrad_admits_growth": (0.1, RATIO, GE, K.GROWTH, YEAR_END),
    "t12_junior_top_rate_growth": (0.1, RATIO, GE, K.GROWTH, YEAR_END),
    "t12_tsinghua_peking_admits": (3, "人", GT, K.CUMULATIVE_COUNT, YEAR_END),
    "t12_top_student_enrolment_rate": (0.9, RATIO, GE, K.RATIO, YEAR_END),
    "t12_putonghua_week": (1, "次", GE, K.DATED_EVENT, date(2023, 9, 17)),
    "t19_teachers_recruited": (260, "人", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t20_teachers_day": (1, "次", GE, K.DATED_EVENT, date(2023, 9, 10)),
    "t21_staff_training": (3_500, "人次", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t24_national_security_day": (1, "次", GE, K.DATED_EVENT, date(2023, 4, 15)),
    "t24_disaster_prevention_day": (1, "次", GE, K.DATED_EVENT, date(2023, 5, 12)),
    "t24_fire_safety_day": (1, "次", GE, K.DATED_EVENT, date(2023, 11, 9)),
    "t24_traffic_safety_day": (1, "次", GE, K.DATED_EVENT, date(2023, 12, 2)),
    "t24_campus_security_100pct": (1.0, RATIO, GE, K.COVERAGE, YEAR_END),
    "t26_student_aid": (70_200, "人次", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t30_publicity_training": (3, "期", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t31_hitech_new": (5, "家", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t31_hitech_total": (20, "家", GE, K.LEVEL, YEAR_END),
    "t31_hitech_output": (2_700_000_000, "元", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t32_tech_achievements": (10, "项", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t32_tech_contract_value": (100_000_000, "元", GT, K.CUMULATIVE_COUNT, YEAR_END),
    "t32_agri_park_revenue": (900_000_000, "元", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t33_online_consultations": (3_000, "条", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t33_onsite_services": (200, "场次", GE, K.CUMULATIVE_COUNT, YEAR_END),
    "t33_science_week": (1, "次", GE, K.DATED_EVENT, date(2023, 5, 31)),
    "t34_national_fitness_day": (1, "次", GE, K.DATED_EVENT, date(2023, 8, 8)),
    "t35_aed_coverage": (1.0, RATIO, GE, K.COVERAGE, YEAR_END),
    "t35_daily_exercise_min": (60, "分钟", GE, K.CONSTRAINT, YEAR_END),
    "t36_lottery_sales": (100_000_000, "元", GE, K.CUMULATIVE_COUNT, YEAR_END),
}

# A phrase carrying several figures becomes one target per figure, all keeping the whole phrase as text.
COMPOUND_PHRASES = {
    "申报创建省级示范幼儿园1所、市级2所、区级3所": 3,
    "本科上线人数、一本上线人数、高分段人数、重点大学录取人数四项增长10%以上": 4,
    "初中毕业生合格率、平均分、优生率三项增长10%以上": 3,
    "“4.15”“5.12”“11.9”“12.2”等重要时间节点": 4,
    "调整初中5所、高中1所": 2,
    "新增学前教育席位500个、义务教育学位2780个": 2,
    "采购精品录播教室设备1套、“班班通”100套、智慧讲桌100套": 3,
    "培育市级科技领军和创业领军人才2名、创新创业团队1个": 2,
    "新培育国家高新技术企业5家,总量达20家以上": 2,
    "确保“两个只增不减”": 2,
    "推进“两个全覆盖”": 2,
}

# Windows have both ends; single-day events only a due date.
DATED_WINDOWS = {
    "t12_preschool_publicity_month": (date(2023, 5, 20), date(2023, 6, 20)),
    "t12_putonghua_week": (date(2023, 9, 11), date(2023, 9, 17)),
    "t33_science_week": (date(2023, 5, 20), date(2023, 5, 31)),
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    # Parsed once per module: the model is frozen and no test changes it.
    return load_plan()


@pytest.fixture
def seed_text() -> str:
    return SEED_TEXT.read_text(encoding="utf-8")


def test_bundled_plan_is_the_2023_bazhou_plan(plan: Plan) -> None:
    assert (plan.id, plan.year, plan.issuer) == ("bazhou-2023", 2023, "巴州区教育科技和体育局")
    assert plan.published == date(2023, 5, 31)


def test_plan_has_the_nine_sections_in_order_with_their_titles(plan: Plan) -> None:
    assert [(s.no, s.title) for s in plan.sections] == SECTION_TITLES
    assert [s.index for s in plan.sections] == list(range(1, 10))


def test_tasks_one_to_thirty_six_each_appear_once_in_order(plan: Plan) -> None:
    assert [task.no for _, task in plan.tasks()] == list(range(1, 37))


@pytest.mark.parametrize(
    ("task_no", "section_no", "title"),
    [
        (1, "一", "夯实思想政治根基"),
        (4, "一", "落实意识形态责任"),
        (7, "二", "扩充城乡教育资源"),
        (12, "三", "推进教育协调发展"),
        (13, "三", "持续抓好“双减”落实"),
        (20, "五", "严守师德师风底线"),
        (24, "六", "落实安全管控措施"),
        (31, "八", "大力培育创新主体"),
        (36, "九", "加快体育产业发展"),
    ],
)
def test_task_sits_in_its_section_with_its_title(plan: Plan, task_no: int, section_no: str, title: str) -> None:
    placement = {task.no: (section.no, task.title) for section, task in plan.tasks()}
    assert placement[task_no] == (section_no, title)


@pytest.mark.parametrize(("target_id", "expected"), SPOT_CHECKS.items())
def test_spot_checked_target_has_the_planned_figure(
    plan: Plan, target_id: str, expected: tuple[float, str, Comparator, TargetKind, date]
) -> None:
    value, unit, comparator, kind, due = expected
    placed = plan.target(target_id)
    target = placed.target
    assert (target.unit, target.comparator, target.kind, placed.due) == (unit, comparator, kind, due)
    assert target.value == pytest.approx(value)


def test_spot_checks_cover_every_target_kind() -> None:
    assert {kind for *_, kind, _ in SPOT_CHECKS.values()} == set(TargetKind)


def test_plan_holds_every_figure_of_the_seed_as_a_target(plan: Plan) -> None:
    # About 75 numbered or dated promises, plus the split compounds; a drop means a target went missing.
    assert sum(1 for _ in plan.placed_targets()) >= 75


def test_section_and_task_titles_are_verbatim_from_the_seed(plan: Plan, seed_text: str) -> None:
    missing = [s.title for s in plan.sections if f"{s.no}、{s.title}\n" not in seed_text]
    missing += [t.title for _, t in plan.tasks() if f"\n{t.no}.{t.title}。" not in seed_text]
    assert missing == []


def test_every_target_text_is_verbatim_from_the_seed_task_it_sits_in(plan: Plan, seed_text: str) -> None:
    paragraphs = {int(m[1]): m[0] for m in re.finditer(r"^(\d+)\..*$", seed_text, flags=re.MULTILINE)}
    assert sorted(paragraphs) == list(range(1, 37))
    misplaced = [p.target.id for p in plan.placed_targets() if p.target.text not in paragraphs[p.task.no]]
    assert misplaced == []


def test_target_ids_are_unique(plan: Plan) -> None:
    ids = Counter(p.target.id for p in plan.placed_targets())
    assert [target_id for target_id, n in ids.items() if n > 1] == []


def test_target_id_starts_with_its_task_number(plan: Plan) -> None:
    wrong = [p.target.id for p in plan.placed_targets() if not p.target.id.startswith(f"t{p.task.no:02d}_")]
    assert wrong == []


def test_ratio_targets_are_fractions_between_zero_and_one(plan: Plan) -> None:
    ratios = [p.target for p in plan.placed_targets() if p.target.unit == RATIO]
    assert ratios
    assert [t.id for t in ratios if not 0 <= t.value <= 1] == []


def test_rates_coverage_and_growth_are_measured_as_ratios(plan: Plan) -> None:
    ratio_kinds = {TargetKind.RATIO, TargetKind.COVERAGE, TargetKind.GROWTH}
    wrong = [p.target.id for p in plan.placed_targets() if p.target.kind in ratio_kinds and p.target.unit != RATIO]
    assert wrong == []


@pytest.mark.parametrize(("phrase", "expected_targets"), COMPOUND_PHRASES.items())
def test_compound_phrase_is_split_into_one_target_per_figure(plan: Plan, phrase: str, expected_targets: int) -> None:
    split = [p.target for p in plan.placed_targets() if p.target.text == phrase]
    assert len(split) == expected_targets
    assert len({t.metric for t in split}) == expected_targets


def test_every_target_repeats_its_task_owner(plan: Plan) -> None:
    assert all(task.responsible for _, task in plan.tasks())
    wrong = [p.target.id for p in plan.placed_targets() if p.target.responsible != p.task.responsible]
    assert wrong == []


def test_dated_events_have_their_own_date_within_the_plan_year(plan: Plan) -> None:
    dated = [p.target for p in plan.placed_targets() if p.target.kind is TargetKind.DATED_EVENT]
    assert len(dated) == 10
    assert [t.id for t in dated if t.due is None or t.due.year != 2023] == []


@pytest.mark.parametrize(("target_id", "window"), DATED_WINDOWS.items())
def test_dated_window_runs_from_start_to_due(plan: Plan, target_id: str, window: tuple[date, date]) -> None:
    target = plan.target(target_id).target
    assert (target.start, target.due) == window


def test_only_dated_windows_have_a_start(plan: Plan) -> None:
    assert {p.target.id for p in plan.placed_targets() if p.target.start} == set(DATED_WINDOWS)


def test_ideology_meeting_is_held_every_quarter(plan: Plan) -> None:
    schedule = plan.target("t04_ideology_meeting_quarterly").target.schedule
    assert schedule is not None
    assert (schedule.every, schedule.times) == ("quarter", 1)


def test_class_size_note_explains_the_configurable_threshold(plan: Plan) -> None:
    notes = plan.target("t10_class_size_max").target.notes or ""
    assert "56" in notes
    assert "configurable" in notes


def test_interpreted_targets_carry_a_note(plan: Plan) -> None:
    interpreted = {TargetKind.COVERAGE, TargetKind.GROWTH, TargetKind.CONSTRAINT, TargetKind.LEVEL}
    without_note = [
        p.target.id
        for p in plan.placed_targets()
        if (p.target.kind in interpreted or p.target.comparator is not Comparator.GE) and not p.target.notes
    ]
    assert without_note == []


def test_every_target_has_a_metric_and_aliases(plan: Plan) -> None:
    bare = [p.target.id for p in plan.placed_targets() if not p.target.metric or not p.target.aliases]
    assert bare == []
