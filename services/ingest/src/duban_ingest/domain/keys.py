"""The keys of a submission (JSON keys or spreadsheet headers) and the canonical fields they mean.

`数值`, `value`, ` 数值 `, `数值（万平方米）`, `*完成数` all mean `value`; a unit in brackets after a
header (`数值（万平方米）`, `比例(%)`) applies to bare numbers in that column. Keys are compared after
NFKC, without spaces, `*` markers or a trailing colon, ASCII lower-cased. Unknown keys are dropped by
the normaliser (never copied into events).
"""

from __future__ import annotations

import re
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
