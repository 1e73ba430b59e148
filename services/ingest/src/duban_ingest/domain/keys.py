"""The keys of a submission (JSON keys or spreadsheet headers) and the canonical fields they mean.

`数值`, `value`, ` 数值 `, `数值（万平方米）`, `*完成数` all mean `value`; a unit in brackets after a
header (`数值（万平方米）`, `比例(%)`) applies to bare numbers in that column. Keys are compared after
NFKC, without spaces, `*` markers or a trailing colon, ASCII lower-cased. Unknown keys are dropped by
the normaliser (never copied into events).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .text import nfkc

#: Canonical field -> the spellings that mean it (English first, then Chinese).
FIELD_SPELLINGS: dict[str, tuple[str, ...]] = {
    "kind": ("kind", "type", "类型", "报送类型", "上报类型", "数据类型"),
    "source": ("source", "school", "单位", "学校", "上报单位", "填报单位", "报送单位", "单位名称", "学校名称"),
    "indicator": ("indicator", "target", "target_id", "指标", "指标名称", "目标", "任务指标", "工作指标", "计划指标"),
    "metric": ("metric", "测量指标", "监测指标", "测量项目", "监测项目"),
    "value": (
        "value",
        "amount",
        "数值",
        "数量",
        "完成数",
        "完成量",
        "完成值",
        "数额",
        "本次完成",
        "实际值",
        "测量值",
        "值",
    ),
    "measure_unit": ("measure_unit", "unit_of_measure", "计量单位"),
    "mode": ("mode", "方式", "统计方式", "填报方式", "报送方式", "口径"),
    "date": (
        "date",
        "日期",
        "时间",
        "完成日期",
        "完成时间",
        "测量日期",
        "活动日期",
        "活动时间",
        "开展日期",
        "举办日期",
    ),
    "note": ("note", "notes", "remark", "remarks", "comment", "备注", "说明", "备注说明"),
    "category": ("category", "类别", "事件类别", "事故类别", "事件类型", "事故类型", "事件分类"),
    "disease": ("disease", "病种", "疾病", "病名", "传染病名称", "疾病名称"),
    "cases": ("cases", "病例数", "病例", "发病数", "发病人数", "患病人数", "例数"),
    "class": ("class", "class_name", "班级", "班别", "所在班级"),
    "grade": ("grade", "level", "severity", "等级", "级别", "事件等级", "事故等级", "事件级别"),
    "deaths": ("deaths", "death", "死亡", "死亡人数", "死亡数"),
    "injuries": ("injuries", "injured", "受伤", "受伤人数", "伤", "受伤数"),
    "occurred_at": ("occurred_at", "occurred", "发生时间", "事发时间", "发生日期", "事发日期"),
    "reported_at": ("reported_at", "reported", "上报时间", "报告时间", "报送时间", "上报日期"),
    "summary": ("summary", "description", "摘要", "简要情况", "事件概要", "情况说明", "概况", "事件经过", "基本情况"),
    "activity": ("activity", "活动", "活动名称", "活动内容"),
    # casework (信访 and 12345): the office's own case number, never a petitioner's details
    "case_id": ("case_id", "信访件编号", "信访编号", "信访件号", "工单号", "工单编号", "案件编号"),
    "channel": ("channel", "渠道", "来源渠道", "信访渠道", "信访形式", "诉求渠道"),
    "action": ("action", "办理环节", "环节", "办理节点"),
    "at": ("at", "办理时间", "办理日期", "环节时间"),
    "satisfaction": ("satisfaction", "满意度", "满意度评价", "回访评价", "回访结果"),
    "limit_working_days": ("limit_working_days", "办理时限", "承办时限"),
    "extension_days": ("extension_days", "延期天数", "延长天数"),
    "reason": ("reason", "理由", "延期理由", "转送理由"),
    "forwarded_to": ("forwarded_to", "转送机关", "转送单位", "转办单位"),
}


def _first_chinese(spellings: tuple[str, ...]) -> str | None:
    return next((spelling for spelling in spellings if not spelling.isascii()), None)


#: The Chinese name of each field, for messages about a field the submission did not send.
FIELD_NAMES_ZH: dict[str, str] = {
    field: name for field, spellings in FIELD_SPELLINGS.items() if (name := _first_chinese(spellings))
}

_ASCII_SEPARATORS = re.compile(r"[\s\-]+")
_BRACKETED_UNIT = re.compile(r"^(?P<key>.+?)[(\[](?P<unit>[^()\[\]]{1,12})[)\]]$")
_INDEX: dict[str, str] = {spelling: field for field, spellings in FIELD_SPELLINGS.items() for spelling in spellings}

#: Longest key worth reading; longer keys are not field names.
MAX_KEY_CHARS = 64


@dataclass(frozen=True)
class KeyMeaning:
    field: str | None  # the canonical field, or None for an unknown key
    unit_hint: str | None  # a unit written in brackets after the key: 数值（万平方米）


def read_key(key: str) -> KeyMeaning:
    """What a key means: `数值（万平方米）` -> value with unit hint 万平方米; `foo` -> unknown."""
    if len(key) > MAX_KEY_CHARS:
        return KeyMeaning(None, None)
    return _read_short_key(key)


@lru_cache(maxsize=4096)  # the same few dozen keys arrive in every message
def _read_short_key(key: str) -> KeyMeaning:
    cleaned = _clean(key)
    field = _INDEX.get(cleaned)
    if field is not None:
        return KeyMeaning(field, None)
    bracketed = _BRACKETED_UNIT.match(cleaned)
    if bracketed:
        return KeyMeaning(_INDEX.get(bracketed["key"]), bracketed["unit"])
    return KeyMeaning(None, None)


def is_chinese_key(key: str) -> bool:
    return not key.isascii()


def _clean(key: str) -> str:
    text = nfkc(key).strip().strip("*").rstrip(":").strip()
    if text.isascii():
        return _ASCII_SEPARATORS.sub("_", text.lower())
    return "".join(text.split())


# --- spreadsheet headers, read by what they say ------------------------------------------------
#
# A JSON key is one of the spellings above or nothing. A spreadsheet header is written by a person
# (`完成面积（平方米）`, `学校（园）名称`, `本季度完成投资(万元)`), so it is read by its words: every
# field has words that suggest it, each with a weight, and words that rule it out; a header close
# to a known spelling (`指标名`, `完成数量`) scores by its similarity (rapidfuzz). Which column gets
# which field is decided for the whole header row (`headers`), with the columns' contents.

#: Words that suggest a field, with how strongly (a known spelling scores 1.0).
FIELD_WORDS: dict[str, tuple[tuple[str, float], ...]] = {
    "source": (
        ("填报单位", 0.95),
        ("报送单位", 0.95),
        ("上报单位", 0.95),
        ("责任单位", 0.9),
        ("责任股室", 0.9),
        ("牵头单位", 0.85),
        ("实施单位", 0.85),
        ("承办单位", 0.8),
        ("主办单位", 0.8),
        ("学校", 0.8),
        ("校名", 0.8),
        ("单位", 0.75),
        ("股室", 0.75),
        ("园所", 0.75),
        ("幼儿园", 0.7),
        ("科室", 0.7),
        ("部门", 0.7),
        ("school", 0.7),
        ("unit", 0.6),
        ("机构", 0.5),
        ("校区", 0.5),
    ),
    "indicator": (
        ("指标", 0.85),
        ("工作内容", 0.7),
        ("建设内容", 0.7),
        ("重点工作", 0.7),
        ("项目", 0.65),
        ("任务", 0.6),
        ("事项", 0.6),
        ("工程", 0.5),
        ("indicator", 0.7),
        ("target", 0.6),
        ("内容", 0.4),
        ("名称", 0.35),
    ),
    "metric": (("测量", 0.8), ("监测", 0.8), ("metric", 0.7)),
    "value": (
        ("测量值", 0.9),
        ("数值", 0.9),
        ("完成量", 0.9),
        ("完成值", 0.85),
        ("完成额", 0.8),
        ("完成数", 0.85),
        ("数量", 0.8),
        ("数额", 0.8),
        ("金额", 0.7),
        ("实测", 0.7),
        ("班额", 0.7),
        ("运动时间", 0.7),
        ("锻炼时间", 0.7),
        ("锻炼时长", 0.7),
        ("完成", 0.6),
        ("实际", 0.6),
        ("实绩", 0.6),
        ("面积", 0.6),
        ("人数", 0.6),
        ("人次", 0.6),
        ("实现", 0.55),
        ("投资", 0.55),
        ("销量", 0.55),
        ("销售", 0.5),
        ("产值", 0.55),
        ("本期", 0.55),
        ("本次", 0.55),
        ("本月", 0.5),
        ("本季", 0.5),
        ("新增", 0.5),
        ("累计", 0.5),
        ("本年", 0.45),
        ("数据", 0.45),
        ("value", 0.7),
        ("amount", 0.7),
        ("count", 0.6),
        ("total", 0.5),
    ),
    "measure_unit": (("计量", 0.9), ("度量", 0.8), ("uom", 0.8)),
    "mode": (("统计口径", 0.9), ("口径", 0.8), ("方式", 0.6), ("增量或累计", 0.9), ("mode", 0.7)),
    "date": (
        ("完成时间", 0.9),
        ("统计时间", 0.85),
        ("截止时间", 0.85),
        ("截至时间", 0.85),
        ("日期", 0.85),
        ("时间", 0.8),
        ("时点", 0.75),
        ("年月", 0.7),
        ("截至", 0.6),
        ("截止", 0.6),
        ("月份", 0.6),
        ("date", 0.8),
        ("time", 0.6),
        ("when", 0.6),
    ),
    "note": (
        ("附注", 0.8),
        ("说明", 0.7),
        ("备注", 0.9),
        ("存在问题", 0.5),
        ("进展情况", 0.5),
        ("处置", 0.6),
        ("情况", 0.45),
        ("完成情况", 0.4),
        ("note", 0.8),
        ("remark", 0.8),
        ("comment", 0.7),
    ),
    "category": (("类别", 0.6), ("事件", 0.5), ("事故", 0.5), ("性质", 0.5)),
    "disease": (("传染病", 0.7), ("病种", 0.9), ("疾病", 0.8), ("病名", 0.9)),
    "cases": (("病例", 0.8), ("例数", 0.8), ("发病", 0.7), ("患病", 0.7)),
    "class": (("班级", 0.85), ("班别", 0.85), ("class", 0.7)),
    "grade": (("等级", 0.7), ("级别", 0.7)),
    "deaths": (("死亡", 0.9),),
    "injuries": (("受伤", 0.9), ("伤", 0.5)),
    "occurred_at": (("事发", 0.85), ("发生", 0.8)),
    "reported_at": (("上报", 0.6), ("报告时间", 0.8), ("报送时间", 0.8), ("填报时间", 0.6), ("填报日期", 0.6)),
    "summary": (("概况", 0.8), ("经过", 0.8), ("简要", 0.7), ("描述", 0.7), ("摘要", 0.8), ("情况", 0.4)),
    "activity": (("活动", 0.85), ("主题", 0.7), ("会议", 0.6)),
}

#: A column headed so is never the progress figure: the plan, a target, a numbering, a rate of the plan.
_VALUE_NEVER = (
    "计划",
    "目标",
    "年度任务",
    "任务数",
    "预计",
    "应完成",
    "下达",
    "序号",
    "编号",
    "代码",
    "电话",
    "排名",
    "完成率",
)
#: A column headed so usually holds text or dates; if it holds figures after all, it may be the value.
_VALUE_UNLIKELY = (
    "时间",
    "日期",
    "时点",
    "年月",
    "期限",
    "时限",
    "情况",
    "说明",
    "单位",
    "方式",
    "口径",
    "名称",
    "项目",
    "指标",
)

#: Words that rule a field out, whatever else the header says (`计划数` is the plan, not progress).
FIELD_VETOES: dict[str, tuple[str, ...]] = {
    "source": ("计量", "单位：", "单位:", "类型", "性质", "代码", "地址", "电话", "人数", "数量"),
    "indicator": ("计划", "目标值", "值", "数", "量", "额", "率", "时间", "日期", "测量", "监测", "单位"),
    "value": _VALUE_NEVER + _VALUE_UNLIKELY,
    "date": ("时长", "运动时间", "锻炼时间", "时间段"),
    "class": ("班额", "人数", "规模"),
    "category": ("学校", "单位"),
    "activity": ("时间", "日期", "地点", "人数", "人次", "场次"),
    "note": ("计量",),
    "reported_at": ("单位", "人"),
    "summary": ("完成情况", "进展情况"),
}

#: The vetoes that the contents of a column cannot lift: a column of figures headed 计划数 is the plan.
HARD_VETOES: dict[str, tuple[str, ...]] = {"value": _VALUE_NEVER}
#: A header ending so (完成值, 学生数, 监测值, 金额) counts something.
_VALUE_SUFFIXES = ("值", "数", "量", "额")
_VALUE_SUFFIX_SCORE = 0.5

#: Headers that are never a field, and why they are left out (said in the mapping).
IGNORED_HEADERS: dict[str, str] = {
    "序号": "row number",
    "编号": "row number",
    "排序": "row number",
    "行号": "row number",
    "no": "row number",
    "no.": "row number",
    "联系人": "contact details (personal data, not read)",
    "联系电话": "contact details (personal data, not read)",
    "电话": "contact details (personal data, not read)",
    "手机": "contact details (personal data, not read)",
    "手机号码": "contact details (personal data, not read)",
    "身份证号": "personal data, not read",
    "身份证号码": "personal data, not read",
    "填表人": "who filled in the form (personal data, not read)",
    "负责人": "contact details (personal data, not read)",
    "经办人": "contact details (personal data, not read)",
    "审核人": "who checked the form (personal data, not read)",
}

_MODE_WORDS: dict[str, str] = {
    "累计": "cumulative",
    "截至目前": "cumulative",
    "截止目前": "cumulative",
    "总量": "cumulative",
    "本期": "increment",
    "本次": "increment",
    "本月": "increment",
    "本季": "increment",
    "新增": "increment",
    "当期": "increment",
}
#: Headers that name the measurement (班额) rather than a generic value: the metric is the header.
_METRIC_WORDS = ("班额", "班级人数", "运动时间", "锻炼时间", "锻炼时长")

_BRACKETS = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]{0,20})[)\]】〕]")
_WRITTEN_BRACKETS = re.compile(r"[(（\[【〔]([^()（）\[\]【】〔〕]{0,20})[)）\]】〕]")
_SCRIPTS = re.compile(r"[a-z][a-z_ .]*|[^a-z_ .]+")
_UNIT_LABEL = re.compile(r"^(计量)?单位[:：]?")
_UNIT_AFTER = re.compile(r"(?:计量)?单位[:：](?P<unit>[^,，;；/]{1,8})$")
_FUZZY_CUTOFF = 80.0
_FUZZY_MIN_CHARS = 3
EXACT = 1.0


@dataclass(frozen=True)
class FieldGuess:
    field: str
    score: float  # 0..1; a known spelling is 1.0
    how: str  # "exact", "keyword" or "fuzzy"
    word: str  # the spelling or word that matched


@dataclass(frozen=True)
class HeaderReading:
    """What one header cell (or a two-row header, `上/下`) says."""

    text: str
    guesses: tuple[FieldGuess, ...]  # best first
    unit: str | None  # a unit of measure in brackets, as written: 完成面积（平方米） -> 平方米
    mode: str | None  # increment or cumulative, when the header says 本期 / 累计
    names_metric: str | None  # 班额（人） -> 班额: the header is itself the measurement
    ignored_because: str | None  # 序号, 联系电话 …: never read
    ruled_out: frozenset[str] = frozenset()  # fields its words exclude whatever the column holds (计划数)


def read_header(text: str, above: str = "") -> HeaderReading:
    """What a header says; `above` is the group title over it in a two-row header (完成情况 over 数值)."""
    lower = _read_one(text)
    if not above or above == text:
        return lower
    upper = _read_one(above)
    scores: dict[str, FieldGuess] = {guess.field: guess for guess in lower.guesses}
    for guess in upper.guesses:
        damped = FieldGuess(guess.field, round(guess.score * 0.9, 4), guess.how, guess.word)
        if damped.score > scores.get(guess.field, damped).score or guess.field not in scores:
            scores[guess.field] = damped
    return HeaderReading(
        text=f"{above}/{text}" if text else above,
        guesses=_ranked(scores.values()),
        unit=lower.unit or upper.unit,
        mode=lower.mode or upper.mode,
        names_metric=lower.names_metric or upper.names_metric,
        ignored_because=lower.ignored_because if text else upper.ignored_because,
        ruled_out=lower.ruled_out | upper.ruled_out,
    )


@lru_cache(maxsize=4096)
def _read_one(text: str) -> HeaderReading:
    written = text.strip()
    units = [unit for inner in _WRITTEN_BRACKETS.findall(written) if (unit := _unit_in(inner))]
    normal = nfkc(written)
    name = _clean(_BRACKETS.sub("", normal)) or _clean(normal)
    after = _UNIT_AFTER.search(name)
    if after and (unit := _unit_in(after["unit"])):
        units.append(unit)
        name = name[: after.start()] or name
    ignored = IGNORED_HEADERS.get(name)
    names_metric = next((name for word in _METRIC_WORDS if word in name), None)
    guesses = () if ignored or len(name) > MAX_KEY_CHARS else _guesses(name, _clean(normal), bool(names_metric))
    return HeaderReading(
        text=text,
        guesses=guesses,
        unit=units[0] if units else None,
        mode=next((mode for word, mode in _MODE_WORDS.items() if word in normal), None),
        names_metric=names_metric,
        ignored_because=ignored,
        ruled_out=frozenset(field for field, vetoes in HARD_VETOES.items() if any(veto in name for veto in vetoes)),
    )


def _unit_in(inner: str) -> str | None:
    """The unit of measure in brackets (`平方米`, `单位：万元`, `㎡`, `%`) as written, or None (`园`, `累计`)."""
    from .numbers import resolve_spelling  # here: numbers imports nothing from keys, but keep it lazy

    spelling = _UNIT_LABEL.sub("", inner.strip()).strip()
    if not spelling:
        return None
    resolved = resolve_spelling(nfkc(spelling))
    return spelling if resolved is not None and resolved[0] is not None else None


def _guesses(name: str, whole: str, names_metric: bool) -> tuple[FieldGuess, ...]:
    found: dict[str, FieldGuess] = {}
    # A bilingual header (学校 School, 数值Value) is read in each of its languages as well.
    parts = _SCRIPTS.findall(name.lower()) if not name.isascii() and any(c.isascii() for c in name) else []
    for key in (name, whole, *(part.strip(" _.") for part in parts)):
        field = _INDEX.get(key)
        if field is not None:
            found[field] = FieldGuess(field, EXACT, "exact", key)
    lowered = name.lower()
    for field, words in FIELD_WORDS.items():
        if field in found or _vetoed(field, lowered, names_metric):
            continue
        matched = [(weight, word) for word, weight in words if word in lowered]
        if field == "value" and lowered.endswith(_VALUE_SUFFIXES):
            matched.append((_VALUE_SUFFIX_SCORE, lowered[-1]))
        if matched:
            weight, word = max(matched, key=lambda pair: (pair[0], len(pair[1])))
            found[field] = FieldGuess(field, weight, "keyword", word)
    # A cut-off or mistyped header (测量日, 填报单) is close to a known spelling even when a word in it
    # suggests something else; the columns' contents then decide between them.
    exact = any(guess.how == "exact" for guess in found.values())
    fuzzy = _fuzzy(name) if len(name) >= _FUZZY_MIN_CHARS and not exact else None
    if fuzzy is not None and (fuzzy.field not in found or fuzzy.score > found[fuzzy.field].score):
        found[fuzzy.field] = fuzzy
    return _ranked(found.values())


def _vetoed(field: str, name: str, names_metric: bool) -> bool:
    if field == "value" and names_metric:  # 每天体育锻炼时间（分钟） is a figure, 时间 notwithstanding
        return False
    return any(veto in name for veto in FIELD_VETOES.get(field, ()))


def _fuzzy(name: str) -> FieldGuess | None:
    from rapidfuzz import fuzz, process

    match = process.extractOne(name, _INDEX.keys(), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    if match is None:
        return None
    spelling, similarity, _ = match
    field = _INDEX[spelling]
    if _vetoed(field, name, names_metric=False):
        return None
    return FieldGuess(field, round(0.5 + (similarity - _FUZZY_CUTOFF) / 100, 4), "fuzzy", spelling)


def _ranked(guesses: Iterable[FieldGuess]) -> tuple[FieldGuess, ...]:
    return tuple(sorted(guesses, key=lambda guess: (-guess.score, -len(guess.word), guess.field)))


def field_for(name: str) -> str | None:
    """The canonical field a person means by `name` in `--map 列名=field`: `value`, `数值`, `完成数` …"""
    cleaned = _clean(name)
    return cleaned if cleaned in FIELD_SPELLINGS else _INDEX.get(cleaned)
