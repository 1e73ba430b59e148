"""Personal data stays out of canonical events: free text is masked before it leaves ingest.

Masked:
- 居民身份证号 (18 digits, the last may be X; and the old 15-digit form): `110105********1234`
- mobile numbers (`1[3-9]` + 9 digits, optionally +86 and separated): `138****5678`
- landlines (`0` + 2–3-digit area code + 7–8 digits): `0827-****5678`
- personal names introduced by a role (学生张三, 家长：李四, 姓名王五, 班主任刘小红) or followed by
  同学/老师 (`，王小明同学`): the surname is kept and the given name replaced, `张某` — the form
  Chinese official documents use.

Names that appear with no role word around them cannot be told from ordinary words and are NOT
masked; integrations are asked not to send names at all (the contract says so), and this is the
safety net, not the policy.
"""

from __future__ import annotations

import re

# Common single-character surnames (百家姓, the ~150 most frequent) and a few two-character ones.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄"
    "聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
    "饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇"
    "桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "宇文", "司徒")
# Characters that end a name because they start the next word (在, 因, 溺水 …): a two-character given
# name is taken only when its characters are not among these.
_NOT_IN_NAMES = (
    "在于因被溺等和与及的同家从到向已未突出发是为患确疑受死经现今昨上下将"
    "摔跌落坠送去回来说称反映报了着过无有对把让由、，。,.;；:：!！?？"
)
_ROLES_BEFORE = (
    "学生家长|学生|家长|教师|老师|班主任|副校长|校长|园长|联系人|姓名|患者|患儿|死者|伤者|遇难者|驾驶员|司机|"
    "幼儿|监护人|报告人|负责人|当事人|肇事者|受害人|受害者|被欺凌者|保安|厨师|职工|员工|同学"
)
_ROLES_AFTER = "同学|老师|校长|家长"
_NOT_NAMES_BEFORE_ROLE = frozenset(
    {"全体", "全班", "全校", "任课", "代课", "各位", "广大", "本班", "该班", "其他", "相关", "班主", "全年", "全区"}
)
# Everyday words that begin with a surname character and often follow a role word (学生安全, 家长会,
# 教师节 …): never read as names.
_COMMON_WORDS_TEXT = (
    "安全 安置 安排 安装 文明 文化 文艺 文体 高中 高考 高三 高年 高校 成绩 成长 成人 "
    "应急 应该 常规 常态 时间 时期 时段 管理 经济 车辆 车祸 路上 路途 游泳 游戏 游玩 "
    "明白 明确 和谐 方面 方式 方案 向上 全体 全部 全面 全校 全班 全年 宁静 武术 夏令 "
    "白天 黄色 金额 石头 江边 江河 周末 周边 周一 周二 周三 周四 周五 周六 周日 于是 "
    "康复 卫生 齐全 关系 关心 关爱 关注 牛奶 房间 房屋 包括 包含 单位 单独 项目 简单 "
    "车站 和平 和家 食品 谢谢 余额 程序 师生 师德 师资 党员 党建 工作 宿舍 军训 体质 "
    "体育 心理 资助 营养 代表 干部 发展 人数 人员 会议 节日 节庆 代课 任课 严重 龙头 "
    "曾经 曾在 苏醒 段时 万元 万人 钱款 伍人 易发 申请 申报 连续 连日 路口 华人 华中 "
    "毛病 左右 左侧 席位 季度 能力 鲁莽 于家 晏阳"
)
_COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())
_SURNAME = f"(?:{'|'.join(_COMPOUND_SURNAMES)}|[{_SURNAMES}])"
_GIVEN_CHAR = f"(?:(?![{_NOT_IN_NAMES}])[\u4e00-\u9fff])"

# \d matches full-width digits too (１３８…), so numbers typed on a Chinese keyboard are masked as well.
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXxＸｘ])(?![\dA-Za-z])")
_OLD_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{6})(\d{3})(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:[+＋]?86[-－ ]?)?([1１][3-9３-９]\d)[-－ ]?(\d{4})[-－ ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)([0０]\d{2,3})[-－ ]?(\d{7,8})(?!\d)")
_NAME_AFTER_ROLE = re.compile(
    rf"(?P<role>{_ROLES_BEFORE})(?P<sep>[:：]?\s*)(?P<surname>{_SURNAME})(?P<given>{_GIVEN_CHAR}{{1,2}})"
)
_NAME_BEFORE_ROLE = re.compile(
    rf"(?<![\u4e00-\u9fff])(?P<surname>{_SURNAME})(?P<given>{_GIVEN_CHAR}{{1,2}})(?P<role>{_ROLES_AFTER})"
)


def mask_personal_data(text: str) -> str:
    """`text` with identity-card numbers, phone numbers and role-introduced names masked."""
    text = _ID_CARD.sub(lambda m: f"{m[1]}{'*' * 8}{m[3][-4:]}", text)
    text = _OLD_ID_CARD.sub(lambda m: f"{m[1]}{'*' * 6}{m[3]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _LANDLINE.sub(lambda m: f"{m[1]}-{'*' * (len(m[2]) - 4)}{m[2][-4:]}", text)
    text = _NAME_AFTER_ROLE.sub(_masked_after_role, text)
    return _NAME_BEFORE_ROLE.sub(_masked_before_role, text)


def _is_not_a_name(surname: str, given: str) -> bool:
    return given.startswith("某") or (surname + given[0]) in _COMMON_WORDS or (surname + given) in _COMMON_WORDS


def _masked_after_role(match: re.Match[str]) -> str:
    if _is_not_a_name(match["surname"], match["given"]):
        return match[0]
    return f"{match['role']}{match['sep']}{match['surname']}某"


def _masked_before_role(match: re.Match[str]) -> str:
    if _is_not_a_name(match["surname"], match["given"]) or match["surname"] + match["given"] in _NOT_NAMES_BEFORE_ROLE:
        return match[0]
    return f"{match['surname']}某{match['role']}"
