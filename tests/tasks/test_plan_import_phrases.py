"""Reading single plan phrases: numerals, units, comparators and kinds (table-driven)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from duban_tasks.domain.plan_import import import_plan, read_commitments
from duban_tasks.domain.plan_import.dates import deadlines
from duban_tasks.domain.plan_import.numbers import parse_number
from duban_tasks.domain.plan_import.observances import OBSERVANCES, window_of

GE, GT, LE, LT = ">=", ">", "<=", "<"
COUNT, LEVEL, RATIO, GROWTH = "cumulative_count", "level", "ratio", "growth"
CONSTRAINT, PERIODIC, DATED, COVERAGE = "constraint", "periodic", "dated_event", "coverage"

Row = tuple[float, str, str, str]

PHRASES: list[tuple[str, list[Row]]] = [
    # Arabic, Chinese and full-width numerals; 万/亿 multipliers; units to base units.
    ("新建中小学校舍1.54万平方米", [(15400, "平方米", GE, COUNT)]),
    ("资助7.02万人次", [(70200, "人次", GE, COUNT)]),
    ("新建运动场地1.5万㎡", [(15000, "平方米", GE, COUNT)]),
    ("新建学生宿舍１．２万平方米", [(12000, "平方米", GE, COUNT)]),
    ("补充教师260名", [(260, "人", GE, COUNT)]),
    ("补充教师二百六十名", [(260, "人", GE, COUNT)]),
    ("培养入党积极分子一百五十名", [(150, "人", GE, COUNT)]),
    ("新增学位１２０个", [(120, "个", GE, COUNT)]),
    ("新增学位一千二百个", [(1200, "个", GE, COUNT)]),
    ("新建幼儿园三所", [(3, "所", GE, COUNT)]),
    ("新建两所幼儿园", [(2, "所", GE, COUNT)]),
    ("举办十二场全民健身赛事", [(12, "场次", GE, COUNT)]),
    ("实现高新技术产值27亿元以上", [(2_700_000_000, "元", GE, COUNT)]),
    ("投入资金3千万元", [(30_000_000, "元", GE, COUNT)]),
    ("采购交互式一体机50台", [(50, "套", GE, COUNT)]),
    # Comparators.
    ("全区体彩销售额达1亿元以上", [(100_000_000, "元", GE, COUNT)]),
    ("争取上级资金不少于3000万元", [(30_000_000, "元", GE, COUNT)]),
    ("新增储备优质企业10家以上", [(10, "家", GE, COUNT)]),
    ("资助6600余人次", [(6600, "人次", GE, COUNT)]),
    ("发放资助资金3200余万元", [(32_000_000, "元", GE, COUNT)]),
    ("清华、北大突破3人", [(3, "人", GT, COUNT)]),
    ("技术合同登记额突破1亿元", [(100_000_000, "元", GT, COUNT)]),
    ("参训教师超过500人次", [(500, "人次", GT, COUNT)]),
    ("单次活动人数控制在200人以内", [(200, "人", LE, CONSTRAINT)]),
    ("作业时间不超过90分钟", [(90, "分钟", LE, CONSTRAINT)]),
    ("每班不超过45人", [(45, "人", LE, CONSTRAINT)]),
    ("严禁新产生55人以上大班额", [(55, "人", LE, CONSTRAINT)]),
    ("保证学生每天运动不少于1小时", [(60, "分钟", GE, CONSTRAINT)]),
    # Ratios, coverage and growth.
    ("优生录取就读率不低于90%", [(0.9, "ratio", GE, RATIO)]),
    ("科研项目经费结余率控制在5%以内", [(0.05, "ratio", LE, RATIO)]),
    ("学生近视率低于50%", [(0.5, "ratio", LT, RATIO)]),
    ("普及率提高到95%", [(0.95, "ratio", GE, RATIO)]),
    ("普及率达到百分之九十五", [(0.95, "ratio", GE, RATIO)]),
    ("视频监控联网率达到100%", [(1, "ratio", GE, COVERAGE)]),
    ("实现义务教育学校课后服务全覆盖", [(1, "ratio", GE, COVERAGE)]),
    ("体育产业总规模同比增长8%", [(0.08, "ratio", GE, GROWTH)]),
    ("安全事故起数同比下降5%", [(-0.05, "ratio", LE, GROWTH)]),
    ("学生近视率下降1个百分点", [(-0.01, "ratio", LE, GROWTH)]),
    ("优良率提高5个百分点", [(0.05, "ratio", GE, GROWTH)]),
    ("国家高新技术企业总量达20家以上", [(20, "家", GE, LEVEL)]),
    ("学生溺亡事故零发生", [(0, "次", LE, CONSTRAINT)]),
    # Compound phrases.
    ("申报创建省级示范幼儿园1所、市级2所、区级3所", [(1, "所", GE, COUNT), (2, "所", GE, COUNT), (3, "所", GE, COUNT)]),
    (
        "采购精品录播教室设备1套、“班班通”100套、智慧讲桌100套",
        [(1, "套", GE, COUNT), (100, "套", GE, COUNT), (100, "套", GE, COUNT)],
    ),
    (
        "本科上线人数、一本上线人数、高分段人数、重点大学录取人数四项增长10%以上",
        [(0.1, "ratio", GE, GROWTH)] * 4,
    ),
    ("初中毕业生合格率、平均分、优生率三项增长10%以上", [(0.1, "ratio", GE, GROWTH)] * 3),
    ("合格率、优良率分别达到95%、55%以上", [(0.95, "ratio", GE, RATIO), (0.55, "ratio", GE, RATIO)]),
    ("公办园占比、普惠率均达到85%以上", [(0.85, "ratio", GE, RATIO)] * 2),
    ("创建国家、省、市、区级体育特色示范学校10所", [(10, "所", GE, COUNT)]),
    # Recurring and dated work.
    ("每季度召开意识形态分析研判专题会", [(1, "次", GE, PERIODIC)]),
    ("每月开展2次校园安全检查", [(2, "次", GE, PERIODIC)]),
    ("每学期开展一次专项督查", [(2, "次", GE, PERIODIC)]),
    ("做好第39个教师节系列庆祝活动", [(1, "次", GE, DATED)]),
    ("开展“4.15”全民国家安全教育日活动", [(1, "次", GE, DATED)]),
    # Labels that are not targets.
    ("做好第七届全国文明城市创建工作", []),
    ("2023年是全面贯彻落实党的二十大精神开局之年", []),
    ("实施“十四五”规划", []),
    ("实施“1319”教育质量提升行动", []),
    ("巴中成立地区30周年", []),
    ("完成四川科教频道《行走的书院》第二季拍摄", []),
    ("增强四个意识、坚定四个自信", []),
    ("落实中央八项规定精神", []),
    ("实施三年行动计划", []),
    ("完成区七小扩建", []),
    ("推进巴州区教育园区（一期）建设", []),
    ("持续开展“一校一品”党建品牌创建活动", []),
    ("组织高2020级一诊二诊三诊分析", []),
    # Measure words (量词) count in their own unit, spelled as written; 公里 converts to 米.
    ("力争金牌突破40枚", [(40, "枚", GT, COUNT)]),
    ("新增校车12辆", [(12, "辆", GE, COUNT)]),
    ("建设健身步道15公里", [(15000, "米", GE, COUNT)]),
    ("为二百六十间教室更换护眼灯具", [(260, "间", GE, COUNT)]),
    ("建成 2 栋乡镇中学教学楼", [(2, "栋", GE, COUNT)]),
    # Figures written with spaces; enumerations with a count and a measure word per item.
    ("增加公办幼儿园学位 970 个", [(970, "个", GE, COUNT)]),
    (
        "新建改建市民健身步道 80 条、市民运动球场 150 片、健身驿站 8 个",
        [(80, "条", GE, COUNT), (150, "片", GE, COUNT), (8, "个", GE, COUNT)],
    ),
    ("新建运动球场150片(其中羽毛球场100片)", [(150, "片", GE, COUNT), (100, "片", GE, COUNT)]),
    # Ranges: the low end is the target.
    ("打造品牌学校3-4所", [(3, "所", GE, COUNT)]),
    ("新建幼儿园三至五所", [(3, "所", GE, COUNT)]),
    ("带动参与群众3-5万人次", [(30000, "人次", GE, COUNT)]),
    # 各N over listed years or places: one target each; 各校 is a per-school floor.
    ("2023年、2024年各新增学位800个", [(800, "个", GE, COUNT)] * 2),
    ("城区和乡镇各建1所", [(1, "所", GE, COUNT)] * 2),
    # Standing duties named by a frequency word.
    ("坚持双周例会制度", [(26, "次", GE, PERIODIC)]),
    ("每周开展校园安全巡查", [(1, "次", GE, PERIODIC)]),
    ("每月例检", [(1, "次", GE, PERIODIC)]),
    # Per-item floors: 每套, 每个, N件一套, a size of each thing.
    ("配建体育健身器材每套2.5万元", [(25000, "元", GE, CONSTRAINT)]),
    ("配建健身器材8件一套", [(8, "件", GE, CONSTRAINT)]),
    ("建设比赛区面积不少于210平方米的篮球场", [(210, "平方米", GE, CONSTRAINT)]),
    # Levels and standards: one attainment each.
    ("第一中学创建为四星级高中", [(1, "达标", GE, LEVEL)]),
    ("学校装备达省Ⅰ类标准", [(1, "达标", GE, LEVEL)]),
    ("力争创成省级示范校", [(1, "达标", GE, LEVEL)]),
    ("通过国家义务教育优质均衡发展县督导评估", [(1, "达标", GE, LEVEL)]),
    ("做好创建省级未成年人保护示范区迎检工作", []),
    ("推进全民健身示范县区创建工作", []),
    # Coverage promised, and coverage as a manner; counts that are a coverage promise's scope.
    ("对全县58所中小学实现课后服务全覆盖", [(1, "ratio", GE, COVERAGE)]),
    ("开展多形式、分层次、全覆盖的学习培训", []),
    ("全覆盖开展教师培训", []),
    # Not promises: document numbers, dates, what exists or was done, lists of names, classes.
    ("根据巴教发〔2023〕12号文件要求", []),
    ("临湘市人民政府《通知》(临政发〔2020〕4号)", []),
    ("2023-03-27印发", []),
    ("现有中小学校58所", []),
    ("2022年完成校舍改造3万平方米", []),
    ("已建成智慧校园20所", []),
    ("重点抓好中冶银河、三和纺织、海亮奥博特3家研发投入过亿元企业", []),
    ("支持研发投入过5000万元的企业", []),
    ("全市共有中小学校312所,在校学生28.6万人", []),
    ("一年来,全县新建幼儿园5所", []),
    ("办好10件民生实事", []),
    ("实施8项重点任务", []),
    ("打造城市社区15分钟健身圈", []),
    ("3月巡查全部学校", []),
    ("比2022年增长10%", [(0.1, "ratio", GE, GROWTH)]),
    # A unit the metric names before a bare figure; duties named with their period.
    ("参与人次达到10万", [(100000, "人次", GE, COUNT)]),
    ("体育彩票销售额突破3亿", [(300_000_000, "元", GT, COUNT)]),
    ("实行月调度、季通报制度", [(1, "次", GE, PERIODIC), (1, "次", GE, PERIODIC)]),
    ("在现有基础上新增学位500个", [(500, "个", GE, COUNT)]),
]


def _rows(phrase: str) -> list[Row]:
    reading = read_commitments(phrase, year=2023)
    return [(d.value, d.unit, d.comparator.value, d.kind.value) for d in reading.drafts]


@pytest.mark.parametrize(("phrase", "expected"), PHRASES, ids=[p for p, _ in PHRASES])
def test_phrase_reads_as_expected_targets(phrase: str, expected: list[Row]) -> None:
    found = _rows(phrase)
    assert len(found) == len(expected), found
    for (value, unit, comparator, kind), (want_value, want_unit, want_comparator, want_kind) in zip(
        found, expected, strict=True
    ):
        assert math.isclose(value, want_value, rel_tol=1e-9, abs_tol=1e-12), (value, want_value)
        assert (unit, comparator, kind) == (want_unit, want_comparator, want_kind)


@pytest.mark.parametrize(("phrase", "expected"), PHRASES, ids=[p for p, _ in PHRASES])
def test_target_text_is_cut_from_the_phrase(phrase: str, expected: list[Row]) -> None:
    for draft in read_commitments(phrase, year=2023).drafts:
        assert draft.text
        assert draft.text in phrase


@pytest.mark.parametrize(
    ("phrase", "reason_part"),
    [
        ("团体总分进入全市前三名", "名次"),
        ("平均分不低于85", "单位"),
        ("改造窑洞教室12孔", "孔"),
        ("5个工作日内办结", "工作日"),
    ],
)
def test_commitment_without_a_base_unit_is_reported_unread(phrase: str, reason_part: str) -> None:
    reading = read_commitments(phrase, year=2023)
    assert reading.drafts == []
    assert [u.text for u in reading.unread] == [phrase]
    assert reason_part in reading.unread[0].reason


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("两", 2),
        ("十二", 12),
        ("一百五十", 150),
        ("二百六十", 260),
        ("一千二百", 1200),
        ("１２０", 120),
        ("1.54万", 15400),
        ("7.02万", 70200),
        ("1亿", 100_000_000),
        ("一点五万", 15000),
        ("0.35万", 3500),
    ],
)
def test_numerals_convert(numeral: str, value: float) -> None:
    assert parse_number(numeral) == value


def test_a_word_is_not_a_numeral() -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_number("校舍")


@pytest.mark.parametrize(
    ("name", "year", "window"),
    [
        ("全国推广普通话宣传周", 2022, (date(2022, 9, 12), date(2022, 9, 18))),
        ("全国推广普通话宣传周", 2023, (date(2023, 9, 11), date(2023, 9, 17))),
        ("全国推广普通话宣传周", 2024, (date(2024, 9, 9), date(2024, 9, 15))),
        ("全国中小学生安全教育日", 2023, (date(2023, 3, 27), date(2023, 3, 27))),
        ("科技活动周", 2023, (date(2023, 5, 20), date(2023, 5, 31))),
        ("学前教育宣传月", 2023, (date(2023, 5, 20), date(2023, 6, 20))),
        ("教师节", 2023, (date(2023, 9, 10), date(2023, 9, 10))),
    ],
)
def test_observance_falls_in_its_window(name: str, year: int, window: tuple[date, date]) -> None:
    observance = next(o for o in OBSERVANCES if o.name == name)
    assert window_of(observance, year) == window


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("做好第39个教师节系列庆祝活动", date(2023, 9, 10)),
        ("开展“全民健身日”系列赛事活动", date(2023, 8, 8)),
        ("做好防溺水及“12.2”等重要时间节点宣传教育", date(2023, 12, 2)),
    ],
)
def test_dated_event_is_due_on_its_day(phrase: str, due: date) -> None:
    [draft] = read_commitments(phrase, year=2023).drafts
    assert (draft.kind.value, draft.due, draft.start) == (DATED, due, None)


def test_promotion_week_is_a_window_in_september() -> None:
    [draft] = read_commitments("抓好第26届全国推广普通话宣传周活动", year=2023).drafts
    assert (draft.start, draft.due) == (date(2023, 9, 11), date(2023, 9, 17))


@pytest.mark.parametrize(
    ("phrase", "due"),
    [("6月底前完成", date(2023, 6, 30)), ("9月1日前建成", date(2023, 9, 1)), ("上半年完成", date(2023, 6, 30))],
)
def test_deadline_phrase_gives_a_due_date(phrase: str, due: date) -> None:
    assert [d.due for d in deadlines(phrase, 2023)] == [due]


def test_deadline_in_the_sentence_becomes_the_target_due_date() -> None:
    [draft] = read_commitments("9月1日前建成城区幼儿园3所。", year=2023).drafts
    assert (draft.value, draft.due) == (3, date(2023, 9, 1))


def test_periodic_target_carries_its_schedule() -> None:
    [draft] = read_commitments("每季度召开意识形态分析研判专题会", year=2023).drafts
    assert draft.schedule is not None
    assert (draft.schedule.every, draft.schedule.times) == ("quarter", 1)
    assert draft.metric == "意识形态分析研判专题会"


@pytest.mark.parametrize(
    ("phrase", "metrics"),
    [
        ("新建中小学校舍1.54万平方米", ["新建中小学校舍"]),
        (
            "申报创建省级示范幼儿园1所、市级2所、区级3所",
            ["申报创建省级示范幼儿园", "申报创建市级示范幼儿园", "申报创建区级示范幼儿园"],
        ),
        ("本科上线人数、一本上线人数两项增长10%以上", ["本科上线人数", "一本上线人数"]),
        ("新培育国家高新技术企业5家，总量达20家以上", ["新培育国家高新技术企业", "国家高新技术企业总量"]),
    ],
)
def test_metric_names_what_is_counted(phrase: str, metrics: list[str]) -> None:
    assert [d.metric for d in read_commitments(phrase, year=2023).drafts] == metrics


def test_a_range_keeps_its_high_end_beside_the_low_end_target() -> None:
    [draft] = read_commitments("打造品牌学校3-4所", year=2023).drafts
    assert (draft.value, draft.value_range) == (3, (3, 4))
    [wan] = read_commitments("带动参与群众3-5万人次", year=2023).drafts
    assert wan.value_range == (30000, 50000)


def test_a_level_names_the_standard_it_reaches() -> None:
    [draft] = read_commitments("第一中学创建为四星级高中", year=2023).drafts
    assert (draft.standard, draft.metric) == ("四星级高中", "第一中学达到四星级高中")


@pytest.mark.parametrize(
    ("phrase", "every", "times"),
    [("坚持双周例会制度", "year", 26), ("每学期开展一次专项督查", "year", 2), ("每旬开展巡查", "month", 3)],
)
def test_a_frequency_word_gives_the_schedule(phrase: str, every: str, times: int) -> None:
    [draft] = read_commitments(phrase, year=2023).drafts
    assert draft.schedule is not None
    assert (draft.schedule.every, draft.schedule.times, draft.value) == (every, times, times)


def test_a_review_section_of_the_past_year_yields_no_targets() -> None:
    text = "某县教育局2024年工作要点\n一、2023年工作回顾\n1.新建幼儿园5所。\n二、2024年主要任务\n2.新建幼儿园3所。\n"
    result = import_plan(text)
    assert [(p.task.no, p.target.value) for p in result.placed_targets] == [(2, 3)]


def test_a_first_line_that_is_a_sentence_is_read_and_the_year_comes_from_the_body() -> None:
    text = "2023 年由市体育局承担的实事项目包括新建社区市民健身中心 30 个,新建市民运动球场 150 片。\n该项目由各区负责。"
    result = import_plan(text)
    assert result.plan.year == 2023
    assert [(p.target.value, p.target.unit) for p in result.placed_targets] == [(30, "个"), (150, "片")]
