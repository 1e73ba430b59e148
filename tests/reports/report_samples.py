"""A realistic ReportData for the renderers' tests: the 2023 Bazhou plan's second quarter.

Targets follow the plan text (tests/data/plans/bazhou-2023.txt), with invented but plausible progress as of
30 June 2023. Statuses follow a simple 序时进度 rule so that the figures hang together; the real
rule belongs to the tasks service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from duban_contracts.casework import CaseChannel, CaseSummary, Satisfaction
from duban_contracts.events import IncidentCategory, IncidentGrade, Severity, TargetStatus
from duban_contracts.plan.model import Comparator, TargetKind
from duban_reports.domain import periods
from duban_reports.domain.casework import casework_section, load_casework_targets
from duban_reports.domain.content import (
    AlertFigures,
    Headline,
    IncidentItem,
    OutbreakItem,
    OutbreakStatus,
    PlanInfo,
    ProgressPoint,
    ReportData,
    SafetySummary,
    SectionProgress,
    SignOffFigures,
    Tally,
    TargetRow,
    TaskProgress,
    Trends,
    UnitReporting,
)
from duban_reports.domain.data_quality import DataQualitySection, QualityFinding, data_quality_section
from duban_reports.domain.periods import REPORT_TZ

YEAR_END = date(2023, 12, 31)

SECTIONS: tuple[tuple[str, str, tuple[tuple[int, str, tuple[str, ...]], ...]], ...] = (
    (
        "一",
        "深化党建引领，筑牢战斗堡垒",
        (
            (1, "夯实思想政治根基", ("办公室",)),
            (2, "提升党建工作水平", ("机关党委",)),
            (3, "强化党风廉政建设", ("纪检组",)),
            (4, "落实意识形态责任", ("办公室",)),
        ),
    ),
    (
        "二",
        "夯实教育基础，改善办学条件",
        (
            (5, "加大资金投入力度", ("计划财务股",)),
            (6, "优化区域校点布局", ("基础教育股",)),
            (7, "扩充城乡教育资源", ("计划财务股", "项目办")),
            (8, "推动教育信息化建设", ("电教馆",)),
            (9, "加强教育装备研究", ("装备中心",)),
        ),
    ),
    (
        "三",
        "加快教育现代化，办人民满意教育",
        (
            (10, "规范招生办学行为", ("基础教育股",)),
            (11, "深化教育改革创新", ("政策法规股",)),
            (12, "推进教育协调发展", ("基础教育股", "教研室")),
            (13, "持续抓好“双减”落实", ("校外培训监管股",)),
            (14, "促进继续教育发展", ("职成教股",)),
            (15, "强化教育督导评估", ("督导室",)),
        ),
    ),
    (
        "四",
        "坚持德育为首，创新育人途径",
        (
            (16, "推动德育创新发展", ("德育股",)),
            (17, "强化美育水平提升", ("体卫艺股",)),
            (18, "创建良好育人环境", ("办公室",)),
        ),
    ),
    (
        "五",
        "狠抓队伍建设，提升干部素质",
        (
            (19, "建设优质师资队伍", ("人事股",)),
            (20, "严守师德师风底线", ("人事股",)),
            (21, "加强干部选拔培养", ("人事股", "教师进修学校")),
            (22, "加强名师示范引领", ("教研室",)),
        ),
    ),
    (
        "六",
        "坚守底线思维，维护校园平安",
        (
            (23, "筑牢传染病防控防线", ("体卫艺股",)),
            (24, "落实安全管控措施", ("安全稳定股",)),
            (25, "全面抓好信访维稳", ("信访办",)),
        ),
    ),
    (
        "七",
        "办好民生实事，践行教育惠民",
        (
            (26, "精准落实惠民政策", ("学生资助中心",)),
            (27, "筑牢后勤保障防线", ("后勤服务中心",)),
            (28, "保障职工合法权益", ("工会",)),
            (29, "助力乡村振兴发展", ("办公室",)),
            (30, "强化宣传树好形象", ("办公室",)),
        ),
    ),
    (
        "八",
        "加快创新驱动，培强发展动能",
        (
            (31, "大力培育创新主体", ("科技股",)),
            (32, "着力深化协同创新", ("科技股",)),
            (33, "强力推进科技惠民", ("科技股",)),
        ),
    ),
    (
        "九",
        "发展体育事业，推进全民健身",
        (
            (34, "普及全民健身运动", ("体育股",)),
            (35, "丰富阳光体育活动", ("体育股", "体卫艺股")),
            (36, "加快体育产业发展", ("体育股",)),
        ),
    ),
)


@dataclass(frozen=True)
class SampleTarget:
    task_no: int
    target_id: str
    text: str
    metric: str
    value: float
    unit: str
    actual: float | None
    kind: TargetKind = TargetKind.CUMULATIVE_COUNT
    comparator: Comparator = Comparator.GE
    due: date = YEAR_END
    status: TargetStatus | None = None  # when the 序时进度 rule does not apply (constraints)
    every: str | None = None
    breaches: tuple[str, ...] = ()


T = SampleTarget
K = TargetKind

SAMPLE_TARGETS: tuple[SampleTarget, ...] = (
    T(2, "t02_model_branches", "创建“五好党支部”20个", "创建“五好党支部”", 20, "个", 8),
    T(2, "t02_party_activists", "培养入党积极分子150名", "培养入党积极分子", 150, "人", 96),
    T(2, "t02_probationary_members", "发展预备党员35名", "发展预备党员", 35, "人", 9),
    T(2, "t02_party_training", "开展党务工作教育培训1次", "党务工作教育培训", 1, "次", 1),
    T(3, "t03_integrity_meeting", "组织召开党风廉政建设专题会", "党风廉政建设专题会", 1, "次", 1),
    T(
        4,
        "t04_ideology_meeting_quarterly",
        "每季度召开意识形态分析研判专题会",
        "意识形态分析研判专题会",
        4,
        "次",
        2,
        K.PERIODIC,
        every="quarter",
    ),
    T(6, "t06_village_points_closed", "撤销村级教学点21个", "撤销村级教学点", 21, "个", 9),
    T(6, "t06_junior_schools_adjusted", "调整初中5所", "调整初中", 5, "所", 2),
    T(6, "t06_senior_school_adjusted", "调整高中1所", "调整高中", 1, "所", 0, due=date(2023, 8, 31)),
    T(7, "t07_school_building_new", "新建中小学校舍1.54万平方米", "新建中小学校舍", 15400, "平方米", 6200),
    T(7, "t07_school_building_repair", "维修改造校舍1.38万平方米", "维修改造校舍", 13800, "平方米", 6100),
    T(7, "t07_sports_ground_new", "新增运动场地9000平方米", "新增运动场地", 9000, "平方米", 2300),
    T(7, "t07_preschool_places", "新增学前教育席位500个", "新增学前教育席位", 500, "个", 120, due=date(2023, 9, 1)),
    T(7, "t07_compulsory_places", "新增义务教育学位2780个", "新增义务教育学位", 2780, "个", 1300, due=date(2023, 9, 1)),
    T(8, "t08_recording_classroom", "采购精品录播教室设备1套", "精品录播教室设备", 1, "套", 1),
    T(8, "t08_class_multimedia", "“班班通”100套", "“班班通”设备", 100, "套", 40),
    T(8, "t08_smart_desks", "智慧讲桌100套", "智慧讲桌", 100, "套", 60),
    T(8, "t08_it_teacher_training", "培训信息技术骨干教师300人次", "信息技术骨干教师培训", 300, "人次", 180),
    T(
        10,
        "t10_no_new_large_class",
        "严禁新产生55人以上大班额",
        "新产生大班额（班额上限）",
        55,
        "人",
        3,  # classes over the limit, as the tasks service counts them
        K.CONSTRAINT,
        Comparator.LE,
        status=TargetStatus.CRITICAL,
        breaches=("巴州区鼎山小学分校五年级2班", "巴州区枣林小学六年级1班", "巴州区水宁寺小学四年级3班"),
    ),
    T(12, "t12_model_kindergarten_provincial", "申报创建省级示范幼儿园1所", "省级示范幼儿园", 1, "所", 0),
    T(12, "t12_model_kindergarten_city", "市级2所", "市级示范幼儿园", 2, "所", 1),
    T(12, "t12_model_kindergarten_district", "区级3所", "区级示范幼儿园", 3, "所", 3),
    T(
        12,
        "t12_undergraduate_growth",
        "本科上线人数增长10%以上",
        "本科上线人数增长",
        0.1,
        "ratio",
        0.124,
        K.GROWTH,
        due=date(2023, 7, 31),
    ),
    T(
        12,
        "t12_tsinghua_peking",
        "清华、北大突破3人",
        "清华、北大录取",
        3,
        "人",
        None,
        comparator=Comparator.GT,
        due=date(2023, 8, 31),
    ),
    T(
        12,
        "t12_top_student_admission",
        "优生录取就读率不低于90%",
        "优生录取就读率",
        0.9,
        "ratio",
        0.87,
        K.RATIO,
        due=date(2023, 9, 30),
    ),
    T(13, "t13_homework_inspection", "开展学校作业管理专项检查", "作业管理专项检查", 2, "次", 1),
    T(
        15,
        "t15_balanced_development_plan",
        "制定《巴州区推进义务教育优质均衡发展工作方案》",
        "优质均衡发展工作方案",
        1,
        "项",
        0,
        K.DATED_EVENT,
        due=date(2023, 6, 15),
    ),
    T(
        16,
        "t16_mental_health_screening",
        "开展青少年心理健康素质测评",
        "心理健康素质测评覆盖率",
        1.0,
        "ratio",
        0.62,
        K.COVERAGE,
    ),
    T(17, "t17_art_assessment", "全面实施中小学生艺术素质测评", "艺术素质测评覆盖率", 1.0, "ratio", 0.45, K.COVERAGE),
    T(19, "t19_teacher_recruitment", "补充教师260名", "补充教师", 260, "人", 118),
    T(
        20,
        "t20_teachers_day",
        "做好第39个教师节系列庆祝活动",
        "教师节庆祝活动",
        1,
        "次",
        None,
        K.DATED_EVENT,
        due=date(2023, 9, 10),
    ),
    T(21, "t21_teacher_training", "师资培训3500人次", "师资培训", 3500, "人次", 1650),
    T(
        23,
        "t23_entry_health_check",
        "落实新生入学健康体检",
        "新生入学健康体检覆盖率",
        1.0,
        "ratio",
        None,
        K.COVERAGE,
        due=date(2023, 10, 31),
    ),
    T(
        24,
        "t24_security_six_100",
        "持续巩固校园安防6个“100%建设”",
        "校园安防“100%建设”达标率",
        1.0,
        "ratio",
        0.93,
        K.COVERAGE,
    ),
    T(
        24,
        "t24_national_security_day",
        "“4.15”全民国家安全教育日宣传教育",
        "4.15宣传教育",
        1,
        "次",
        1,
        K.DATED_EVENT,
        due=date(2023, 4, 15),
    ),
    T(
        24,
        "t24_disaster_prevention_day",
        "“5.12”防灾减灾日宣传教育",
        "5.12宣传教育",
        1,
        "次",
        1,
        K.DATED_EVENT,
        due=date(2023, 5, 12),
    ),
    T(24, "t24_fire_day", "“11.9”消防日宣传教育", "11.9宣传教育", 1, "次", None, K.DATED_EVENT, due=date(2023, 11, 9)),
    T(26, "t26_student_aid", "资助7.02万人次", "学生资助", 70200, "人次", 38600),
    T(30, "t30_publicity_training", "开展信息宣传工作专题培训3期", "信息宣传专题培训", 3, "期", 1),
    T(31, "t31_hitech_new", "新培育国家高新技术企业5家", "新培育国家高新技术企业", 5, "家", 1),
    T(31, "t31_hitech_total", "总量达20家以上", "国家高新技术企业总量", 20, "家", 16, K.LEVEL),
    T(31, "t31_tech_sme", "备案入库国家科技型中小企业50家以上", "国家科技型中小企业入库", 50, "家", 41, K.LEVEL),
    T(31, "t31_gazelle", "培育省级瞪羚企业申报对象1家", "省级瞪羚企业申报对象", 1, "家", 0),
    T(31, "t31_reserve_enterprises", "新增储备优质企业10家以上", "新增储备优质企业", 10, "家", 6),
    T(31, "t31_hitech_output", "实现高新技术产值27亿元以上", "高新技术产值", 2.7e9, "元", 1.26e9, K.LEVEL),
    T(
        31,
        "t31_innovation_platforms",
        "新创建省级科技创新平台和市级新型研发机构4家",
        "科技创新平台和新型研发机构",
        4,
        "家",
        1,
    ),
    T(32, "t32_tech_transfer", "引进转化科技成果10项以上", "引进转化科技成果", 10, "项", 4),
    T(32, "t32_contract_value", "技术合同登记额突破1亿元", "技术合同登记额", 1e8, "元", 4.6e7, K.LEVEL, Comparator.GT),
    T(32, "t32_high_level_talent", "柔性引进高层次科技创新人才12名以上", "柔性引进高层次人才", 12, "人", 7),
    T(
        32,
        "t32_park_revenue",
        "农业科技园区主营业务收入9亿元以上",
        "农业科技园区主营业务收入",
        9e8,
        "元",
        4.1e8,
        K.LEVEL,
    ),
    T(33, "t33_field_services", "实地开展科技精准服务200场次", "科技精准服务", 200, "场次", 86),
    T(33, "t33_online_consultations", "线上解决产业技术咨询3000条", "线上产业技术咨询", 3000, "条", 1350),
    T(
        33,
        "t33_science_events",
        "举办“科技之春”科普活动月、科技活动周等科普专项活动3场次以上",
        "科普专项活动",
        3,
        "场次",
        2,
    ),
    T(34, "t34_township_sports_grounds", "新建乡镇多功能运动场地14个", "乡镇多功能运动场地", 14, "个", 3),
    T(34, "t34_fitness_events", "开展系列赛事活动200场次", "全民健身赛事活动", 200, "场次", 104),
    T(35, "t35_aed", "完成全区学校体育场AED（自动体外除颤仪）配备", "学校AED配备率", 1.0, "ratio", 0.55, K.COVERAGE),
    T(35, "t35_sports_model_schools", "创建国家、省、市、区级体育特色示范学校10所", "体育特色示范学校", 10, "所", 4),
    T(35, "t35_daily_exercise", "保证学生每天运动不少于1小时", "学生日均运动时长", 60, "分钟", 64, K.LEVEL),
    T(36, "t36_lottery_stations", "新建体彩站点2个", "新建体彩站点", 2, "个", 2),
    T(36, "t36_lottery_sales", "全区体彩销售额达1亿元以上", "体彩销售额", 1e8, "元", 4.87e7, K.LEVEL),
)

UNITS: tuple[tuple[str, str, str, int, int, int, int], ...] = (
    # id, name, township, expected, received, on time, rejected
    ("bz-ez", "巴中市第二中学", "江北街道", 13, 13, 13, 1),
    ("bz-sz", "巴州区第三中学", "东城街道", 13, 13, 12, 2),
    ("bz-qx", "巴州区第七小学", "江北街道", 13, 13, 13, 0),
    ("bz-dsxx", "鼎山小学", "宕梁街道", 13, 12, 10, 3),
    ("bz-zlxx", "枣林小学", "枣林镇", 13, 11, 8, 4),
    ("bz-sns", "水宁寺小学", "水宁寺镇", 13, 13, 11, 1),
    ("bz-zk", "曾口镇中心小学", "曾口镇", 13, 9, 6, 5),
    ("bz-qj", "清江镇中心小学", "清江镇", 13, 13, 13, 0),
    ("bz-hc", "化成镇中心小学", "化成镇", 13, 10, 7, 2),
    ("bz-jbyey", "江北幼儿园", "江北街道", 13, 13, 13, 0),
    ("bz-zz", "巴州区职业中学", "东城街道", 13, 12, 12, 1),
    ("bz-jxxx", "巴州区教师进修学校", "东城街道", 13, 13, 13, 0),
)


def _expected_share(due: date, as_of_day: date) -> float:
    """Linear 序时进度 from 1 January to the due date."""
    start = date(2023, 1, 1)
    if as_of_day > due:
        return 1.0
    return round((as_of_day - start).days / ((due - start).days + 1), 3)


def _status(completion: float | None, expected: float, due: date, as_of_day: date) -> TargetStatus:
    if completion is not None and completion >= 1:
        return TargetStatus.DONE
    if due < as_of_day:
        return TargetStatus.OVERDUE
    if completion is None:
        return TargetStatus.NOT_STARTED
    gap = expected - completion
    if gap <= 0.1:
        return TargetStatus.ON_TRACK
    return TargetStatus.LAGGING if gap <= 0.25 else TargetStatus.CRITICAL


def _target_rows(as_of_day: date) -> tuple[TargetRow, ...]:
    placed = {
        task_no: (no, title, task_title, owners)
        for no, title, tasks in SECTIONS
        for task_no, task_title, owners in tasks
    }
    rows = []
    for sample in SAMPLE_TARGETS:
        section_no, section_title, task_title, owners = placed[sample.task_no]
        completion = (
            None if sample.actual is None or sample.kind is K.CONSTRAINT else round(sample.actual / sample.value, 4)
        )
        expected = _expected_share(sample.due, as_of_day)
        rows.append(
            TargetRow(
                section_no=section_no,
                section_title=section_title,
                task_no=sample.task_no,
                task_title=task_title,
                target_id=sample.target_id,
                text=sample.text,
                metric=sample.metric,
                target_value=sample.value,
                unit=sample.unit,
                status=sample.status or _status(completion, expected, sample.due, as_of_day),
                due=sample.due,
                actual=sample.actual,
                completion=completion,
                expected=None if sample.kind is K.CONSTRAINT else expected,
                comparator=sample.comparator,
                kind=sample.kind,
                responsible=owners,
                every=sample.every,
                breaches=sample.breaches,
            )
        )
    return tuple(rows)


_ROLLUP_ORDER = (
    TargetStatus.OVERDUE,
    TargetStatus.CRITICAL,
    TargetStatus.LAGGING,
    TargetStatus.ON_TRACK,
    TargetStatus.NOT_STARTED,
    TargetStatus.DONE,
)


def _rollup(rows: tuple[TargetRow, ...]) -> tuple[TargetStatus | None, float | None, float | None]:
    """A crude rollup for the sample: the mean shares, and the worst status."""
    if not rows:
        return None, None, None
    measured = [row for row in rows if row.completion is not None]
    completion = (
        round(sum(min(1.0, row.completion or 0.0) for row in measured) / len(measured), 4) if measured else None
    )
    expected = round(sum(row.expected or 0.0 for row in measured) / len(measured), 4) if measured else None
    worst = min((row.status for row in rows), key=_ROLLUP_ORDER.index)
    return worst, completion, expected


def _sections(rows: tuple[TargetRow, ...]) -> tuple[SectionProgress, ...]:
    sections = []
    for index, (no, title, tasks) in enumerate(SECTIONS, start=1):
        task_rows = []
        for task_no, task_title, owners in tasks:
            status, completion, expected = _rollup(tuple(row for row in rows if row.task_no == task_no))
            task_rows.append(TaskProgress(task_no, task_title, status, completion, expected, owners))
        status, completion, expected = _rollup(tuple(row for row in rows if row.section_no == no))
        sections.append(SectionProgress(no, index, title, status, completion, expected, tuple(task_rows)))
    return tuple(sections)


def _at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2023, month, day, hour, minute, tzinfo=REPORT_TZ)


C = IncidentCategory


def _safety() -> SafetySummary:
    return SafetySummary(
        by_category=(
            Tally(C.DROWNING, 1, deaths=1),
            Tally(C.TRAFFIC, 2, injuries=3),
            Tally(C.INFECTIOUS_DISEASE, 3),
            Tally(C.FOOD_SAFETY, 1, injuries=0),
            Tally(C.BULLYING, 1, injuries=1),
            Tally(C.OTHER, 1, injuries=1),
        ),
        by_grade=(Tally(IncidentGrade.IV, 3, deaths=1, injuries=3), Tally(None, 6, injuries=2)),
        by_township=(
            Tally("江北街道", 2, injuries=1),
            Tally("东城街道", 2, injuries=2),
            Tally("曾口镇", 2, deaths=1),
            Tally("清江镇", 1),
            Tally("水宁寺镇", 1, injuries=1),
            Tally(None, 1, injuries=1),
        ),
        by_month=(
            Tally(date(2023, 4, 1), 2, injuries=2),
            Tally(date(2023, 5, 1), 3, injuries=1),
            Tally(date(2023, 6, 1), 4, deaths=1, injuries=2),
        ),
        notable=(
            IncidentItem(
                _at(4, 19, 7, 40),
                "巴州区第三中学",
                C.TRAFFIC,
                "东城街道",
                IncidentGrade.IV,
                injuries=2,
                summary="学生上学途中乘坐的非营运车辆与货车剐蹭，2名学生轻伤，已送医。",
                report_delay=timedelta(minutes=35),
            ),
            IncidentItem(
                _at(5, 23, 12, 10),
                "水宁寺小学",
                C.BULLYING,
                "水宁寺镇",
                injuries=1,
                summary="课间发生学生欺凌事件，1名学生受轻伤，学校已约谈家长并开展专项教育。",
                report_delay=timedelta(hours=3, minutes=5),
            ),
            IncidentItem(
                _at(6, 18, 16, 20),
                "曾口镇中心小学",
                C.DROWNING,
                "曾口镇",
                IncidentGrade.IV,
                deaths=1,
                summary="周末1名学生私自到河边戏水溺亡，已启动责任倒查。",
                report_delay=timedelta(minutes=50),
            ),
        ),
        outbreaks=(
            OutbreakItem(
                "巴州区第七小学", "流感", 12, date(2023, 4, 10), date(2023, 4, 16), OutbreakStatus.CLOSED, "江北街道"
            ),
            OutbreakItem(
                "曾口镇中心小学", "手足口病", 5, date(2023, 5, 22), date(2023, 5, 29), OutbreakStatus.CLOSED, "曾口镇"
            ),
            OutbreakItem(
                "江北幼儿园", "诺如病毒", 11, date(2023, 6, 26), date(2023, 6, 30), OutbreakStatus.ACTIVE, "江北街道"
            ),
        ),
    )


def _trends(period: periods.Period, actual: float, expected: float) -> Trends:
    """Week ends up to the period's last day, bending towards the headline figures."""
    year_start = date(2023, 1, 1)
    days = [periods.week(2023, n).last_day for n in range(1, 53)]
    days = [day for day in days if day.year == 2023 and day < period.last_day] + [period.last_day]
    span = (period.last_day - year_start).days + 1
    points = tuple(
        ProgressPoint(
            day,
            round(actual * (((day - year_start).days + 1) / span) ** 1.15, 4),
            round(expected * ((day - year_start).days + 1) / span, 4),
        )
        for day in days
    )
    incidents = (1, 2, 2, 2, 3, 4)
    return Trends(
        progress=points,
        incidents_by_month=tuple(Tally(date(2023, m, 1), n) for m, n in enumerate(incidents, start=1)),
    )


def sample_report(period_key: str = "2023-Q2") -> ReportData:
    """By default the second quarter of 2023, as of midnight after 30 June (Asia/Shanghai)."""
    period = periods.parse_period(period_key)
    as_of = period.end
    as_of_day = period.last_day
    rows = _target_rows(as_of_day)
    _, completion, expected = _rollup(rows)
    return ReportData(
        period=period,
        as_of=as_of,
        plan=PlanInfo("巴州区教育科技和体育局2023年度教育科技体育工作计划", "巴州区教育科技和体育局", 2023),
        headline=Headline(
            plan_completion=completion,
            expected_completion=expected,
            incidents_in_period=9,
            incidents_year_to_date=14,
            deaths_in_period=1,
            injuries_in_period=5,
            deaths_year_to_date=1,
            injuries_year_to_date=7,
            outbreaks_in_period=3,
            outbreaks_active=1,
            alerts=AlertFigures(
                opened=27,
                acknowledged=24,
                resolved=19,
                open_at_end=8,
                median_time_to_acknowledge=timedelta(hours=2, minutes=35),
                median_time_to_resolve=timedelta(days=3, hours=4),
                opened_by_severity={Severity.INFO: 6, Severity.WARNING: 12, Severity.MAJOR: 7, Severity.CRITICAL: 2},
            ),
            submissions_received=1264,
            submissions_rejected=37,
        ),
        sections=_sections(rows),
        targets=rows,
        safety=_safety(),
        reporting=tuple(
            UnitReporting(uid, name, expected_n, received, on_time, township, rejected)
            for uid, name, township, expected_n, received, on_time, rejected in UNITS
        ),
        trends=_trends(period, completion or 0.0, expected or 0.0),
        data_quality=_data_quality(),
        signoff=SignOffFigures(approved=5, pending=3, returned=1, approved_below_reported=1),
        casework=casework_section(
            _case_summaries(), period.first_day, period.last_day, as_of_day, load_casework_targets()
        ),
    )


def _data_quality() -> DataQualitySection:
    """Two units with findings among four that reported: a total that went down, a class of 455, an outlier."""
    reports = [
        ("bz-ez", "巴中市第二中学", 20),
        ("bz-q7x", "巴州区第七小学", 8),
        ("sec-sports", "体育股", 12),
        ("bz-zlxx", "巴州区枣林小学", 6),
    ]
    findings = [
        QualityFinding("bz-q7x", "q7-3", "cumulative_decrease", "warning"),
        QualityFinding("bz-q7x", "q7-5", "implausible_value", "warning"),
        QualityFinding("bz-ez", "ez-11", "increment_outlier", "info"),
    ]
    return data_quality_section(reports, findings)


def _case_summaries() -> list[CaseSummary]:
    """Twelve cases of the first half: on time, late, still open (one past due), rated and resolved."""
    d = date
    letter, visit, online, hotline = CaseChannel.LETTER, CaseChannel.VISIT, CaseChannel.ONLINE, CaseChannel.HOTLINE
    happy, unhappy = Satisfaction.SATISFIED, Satisfaction.DISSATISFIED
    rows = [
        ("XF2023-0101", letter, d(2023, 2, 6), d(2023, 2, 8), d(2023, 3, 20), d(2023, 4, 10), happy, d(2023, 3, 30)),
        ("XF2023-0102", visit, d(2023, 3, 2), d(2023, 3, 3), d(2023, 4, 28), d(2023, 5, 4), happy, d(2023, 5, 10)),
        ("XF2023-0103", online, d(2023, 4, 3), d(2023, 4, 6), d(2023, 6, 12), d(2023, 6, 5), unhappy, None),
        ("XF2023-0104", letter, d(2023, 4, 20), d(2023, 4, 24), d(2023, 6, 1), d(2023, 6, 26), happy, d(2023, 6, 8)),
        ("XF2023-0105", visit, d(2023, 5, 8), d(2023, 5, 9), None, d(2023, 7, 10), None, None),
        ("XF2023-0106", letter, d(2023, 2, 20), d(2023, 2, 21), None, d(2023, 4, 24), None, None),
        ("GD2023-0211", hotline, d(2023, 4, 4), d(2023, 4, 4), d(2023, 4, 6), d(2023, 4, 7), happy, d(2023, 4, 12)),
        ("GD2023-0212", hotline, d(2023, 4, 27), d(2023, 4, 27), d(2023, 5, 8), d(2023, 5, 6), happy, None),
        ("GD2023-0213", hotline, d(2023, 5, 15), d(2023, 5, 15), d(2023, 5, 17), d(2023, 5, 18), None, None),
        ("GD2023-0214", hotline, d(2023, 6, 20), d(2023, 6, 20), d(2023, 6, 21), d(2023, 6, 21), happy, d(2023, 6, 28)),
        ("GD2023-0215", hotline, d(2023, 6, 26), d(2023, 6, 26), None, d(2023, 7, 5), None, None),
    ]
    summaries = [
        CaseSummary(
            case_id=case_id,
            channel=channel,
            unit_id="sec-safety",
            received_on=received,
            accepted_on=accepted,
            concluded_on=concluded,
            due=due,
            rated_on=concluded + timedelta(days=5) if concluded and rating else None,
            satisfaction=rating,
            resolved_on=resolved,
        )
        for case_id, channel, received, accepted, concluded, due, rating, resolved in rows
    ]
    forwarded = CaseSummary("XF2023-0107", letter, "sec-safety", d(2023, 5, 22), forwarded_on=d(2023, 5, 25))
    return [*summaries, forwarded]
