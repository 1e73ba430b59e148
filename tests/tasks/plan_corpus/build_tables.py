"""Writes the corpus's task tables as XLSX, cell by cell as the public pages show them.

The four tables came as web tables (or a table in a DOC preview); their cells are kept verbatim
here so that the XLSX files can be rebuilt and reviewed: `python tests/tasks/plan_corpus/build_tables.py`.
A row of `None` cells below a numbered row stands for a merged cell, as in the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).parent

Cell = str | int | None


@dataclass(frozen=True)
class Table:
    path: str
    sheet: str
    title: str | None
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


TABLES = (
    Table(
        path="dev/zhonglou_minsheng_2021_fenjie.xlsx",
        sheet="分解表",
        title="2021年重大民生实事项目目标任务责任分解表",
        header=("序号", "项目名称", "主要内容", "区政府分管领导", "牵头单位", "配合单位"),
        rows=(
            (
                1,
                "增加教育资源供给",
                "实施新建、改扩建学校重点建设项目12个,计划竣工3个,其中幼儿园7个、小学4个、初中1个;"
                "增加学位5000个,其中幼儿园420个,中小学4580个。",
                "何海平",
                "教育局",
                "经开区高新园(邹区镇)各街道市国有公司",
            ),
            (
                2,
                "促进就业稳定增长",
                "落实就业优先战略。全区城镇新增就业15000人,失业人员再就业5800人,新增参保大学生5400人,"
                "城乡“零就业家庭”动态清零,城镇登记失业率控制在3%以内;支持成功自主创业2000人,"
                "支持大学生创业240人;开展职业技能补贴培训10000人次。",
                "何海平",
                "人社局",
                "高新园(邹区镇)各街道",
            ),
            (
                3,
                "老城厢复兴发展",
                "完成瞿秋白纪念馆整体提升工程对外开放,完成常州盛宣怀故居(本体)修缮展陈。",
                "何海平",
                "文体旅局",
                "晋陵公司轨道公司",
            ),
            (
                None,
                None,
                "推进大庙弄核心区改造、瞿秋白纪念馆周边立面整治及三堡街、西横街、民元里、邮电路、"
                "北大街等老城厢道路整治。",
                "芮春祥",
                "住建局",
                "五星街道南大街街道荷花池街道",
            ),
        ),
    ),
    Table(
        path="dev/qiaocheng_jiaoyu_2025_fenjie.xlsx",
        sheet="任务分解表",
        title="谯城区教育局2025年政府工作报告重点工作任务分解表",
        header=("序号", "重点工作任务", "主要责任单位", "协同配合单位"),
        rows=(
            ("一、2025年经济社会发展的主要预期目标", None, None, None),
            (
                3,
                "固定资产投资增长7.5%左右。",
                "区发改委",
                "区工信局、区住建局、区交通局、区水利局、区农业农村局、区教育局、区卫健委,"
                "各乡镇人民政府、街道办事处,谯城经开区管委会,魏武国控集团。",
            ),
            ("二、全力以赴扩投资、优服务,筑牢经济增长根基", None, None, None),
            ("三、全力以赴延链条、壮集群,构建现代产业体系", None, None, None),
            ("四、全力以赴增动能、聚人气,激发改革创新活力", None, None, None),
            ("五、全力以赴促融合、护生态,打造宜居宜业家园", None, None, None),
            ("六、全力以赴惠民生、增福祉,加快社会事业发展", None, None, None),
            (
                68,
                "持续推进学前教育普及普惠、义务教育优质均衡发展,加快建设黎明小学、亳州四中等扩建教学楼项目。",
                "区教育局",
                "区政府有关部门,各乡镇人民政府、街道办事处。",
            ),
            (69, "深化与海亮集团合作,积极引进优质教育资源。", "区教育局", "区投资促进中心。"),
        ),
    ),
    Table(
        path="test/zhaoyuan_jiaoti_2022_minsheng.xlsx",
        sheet="民生事项",
        title=None,
        header=(
            "类别",
            "民生事项名称",
            "2022年度任务目标",
            "责任单位",
            "分管市领导",
            "1-9月份工作完成情况",
            "1-9月份工作取得成效",
            "监督电话",
        ),
        rows=(
            (
                "四、教育文化",
                "14.改扩建泉山学校及庙后吕家初级中学",
                "完成泉山学校一期2座教学楼建设,庙后吕家初级中学主体建设并投入使用。",
                "教育体育局",
                "刘福利",
                "泉山学校:完成主体建筑结构施工、平板浇筑,其中1号教学楼完成墙板安装,开始装饰装修; "
                "庙后吕家初级中学:食堂建成投用,教工宿舍楼完成主体钢结构施工,整体钢结构施工完成70%。",
                "两处学校改扩建项目目前正在加速推进施工进度。",
                "监督电话0535-8246306",
            ),
            (
                None,
                "15.推进学校塑胶运动场地建设",
                "完成罗峰学校及13处农村学校塑胶运动场地建成并投入使用。",
                "教育体育局",
                "刘福利",
                "罗峰学校:9月份开始施工,完成基础施工30%; 农村学校塑胶运动场地:完成基础施工,"
                "其中邵家初中塑胶运动场地完成人工草坪铺设正在进行篮球场硅PU施工,十字道初中开始人工草坪铺设。",
                "罗峰学校正在全力推进基础施工;13处农村学校塑胶运动场地已完成基础建设,两处学校开始铺设面层。",
                "监督电话0535-8246306",
            ),
            (
                None,
                "16.推进义务教育课后服务",
                "对全市34所义务教育学校实行课后服务全覆盖,对有课后需求的学生实行全覆盖,稳步提高课后服务质量。",
                "教育体育局",
                "刘福利",
                "2022年9月23日对全市义务教育学校课后服务课程超市开设情况进行调度,督促学校开设多彩课程,"
                "丰富课后服务内容,促进课后服务提质增效。",
                "1-9月份全市有课后服务需求的学生32402人,实际参与课后服务的学生32402人,"
                "有课后服务需求的学生参与率100%,课后服务计划拨付700万元,占年度计划投资总额的75%。",
                "监督电话0535-8246336",
            ),
        ),
    ),
    Table(
        path="test/nanling_jiaoyu_2024_fenjie.xlsx",
        sheet="分解表",
        title="2024年《政府工作报告》重点工作目标任务分解表",
        header=("序号", "目标与任务", "分管县领导", "牵头责任单位", "责任单位"),
        rows=(
            (
                80,
                "极回应群众新期待新要求,加大普惠性托育供给,新增托位数400个以上,公办园在园幼儿占比60%以上。"
                "实施中小学办学能力提升工程,推动义务教育优质均衡发展。"
                "实施中小学办学能力提升工程,推动义务教育优质均衡发展。",
                "俞 悦",
                "县教育局",
                "县各有关单位",
            ),
            (
                81,
                "保障芜职院现代物流智造学院秋季开学,支持芜湖科技工程学校发展,探索职业教育赋能区域发展路径。",
                "陆 明俞 悦",
                "县教育局",
                "县各有关单位",
            ),
        ),
    ),
)


def write(table: Table, directory: Path = HERE) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.sheet
    if table.title:
        sheet.append([table.title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.header))
        sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.append(list(table.header))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
    for line in sheet.iter_rows():
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    path = directory / table.path
    workbook.save(path)
    return path


def table_text(path: Path) -> str:
    """Every cell's text, row by row: what a gold phrase of a table must quote."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    lines = [
        "\t".join("" if value is None else str(value) for value in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]
    workbook.close()
    return "\n".join(lines)


if __name__ == "__main__":
    for table in TABLES:
        print(write(table))
