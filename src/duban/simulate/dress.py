"""Writing a draft down the way a unit's integration does: its keys, its dates, its numbers.

Everything written here is something ingest is documented to read (README, `duban_ingest.domain`):
English or Chinese keys, `2023-06-05` / `2023年6月5日` / `2023/6/5`, bare numbers or figures with
units and 万/亿 (`1.54万平方米`, `300人次`, `96.5%`), 新增/累计 for the mode. `Mangle` lets the noise
layer swap one canonical field for a deliberately broken text, or leave one out.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from duban_contracts.plan import Plan, Target

from .drafts import RATIO, Amount, Draft
from .model import SHANGHAI
from .roster import Style

#: Canonical field -> (English key, Chinese keys a unit may use).
_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kind": ("kind", ("类型", "报送类型")),
    "source": ("source", ("单位", "填报单位", "上报单位")),
    "indicator": ("indicator", ("指标", "指标名称")),
    "amount": ("value", ("数值", "完成数")),
    "mode": ("mode", ("方式", "统计方式")),
    "date": ("date", ("日期", "完成日期")),
    "note": ("note", ("备注", "说明")),
    "category": ("category", ("事件类别", "类别")),
    "disease": ("disease", ("病种",)),
    "cases": ("cases", ("病例数", "发病人数")),
    "class": ("class", ("班级",)),
    "grade": ("grade", ("事件等级", "等级")),
    "deaths": ("deaths", ("死亡人数",)),
    "injuries": ("injuries", ("受伤人数",)),
    "occurred_at": ("occurred_at", ("发生时间", "事发时间")),
    "reported_at": ("reported_at", ("上报时间", "报告时间")),
    "summary": ("summary", ("简要情况", "事件经过")),
    "metric": ("metric", ("测量项目", "监测项目")),
    "value": ("value", ("数值", "测量值")),
    "activity": ("activity", ("活动名称", "活动")),
    "submitted_at": ("submitted_at", ("填报时间", "提交时间")),
}
_SCHOOL_SOURCE_KEYS = ("学校", "学校名称", "单位")
_KIND_ZH = {"progress": "进度", "incident": "事件", "measurement": "测量", "activity": "活动"}
_MODE_ZH = {"increment": ("新增", "本期"), "cumulative": ("累计", "累计完成")}
_METRIC_NAMES = {
    "class_size": ("class_size", ("班额", "班级人数")),
    "daily_exercise_minutes": ("daily_exercise_minutes", ("每天运动时间", "体育锻炼时间", "每天校园体育活动时间")),
}
_CATEGORY_EN = {
    "溺水": "drowning",
    "交通": "traffic",
    "火灾": "fire",
    "食品安全": "food_safety",
    "一氧化碳中毒": "carbon_monoxide",
    "自然灾害": "natural_disaster",
    "欺凌": "bullying",
    "暴力伤害": "violence",
    "传染病": "infectious_disease",
    "其他": "other",
}
_CATEGORY_ZH = {
    "溺水": ("溺水", "溺水事故"),
    "交通": ("交通事故", "道路交通事故"),
    "火灾": ("火灾", "火情"),
    "食品安全": ("食物中毒", "食品安全事故"),
    "一氧化碳中毒": ("一氧化碳中毒", "煤气中毒"),
    "自然灾害": ("暴雨", "洪涝"),
    "欺凌": ("校园欺凌", "欺凌"),
    "暴力伤害": ("打架斗殴", "暴力伤害"),
    "传染病": ("传染病", "传染病疫情"),
    "其他": ("其他",),
}
_DISEASE_SPELLINGS = {
    "流感": ("流感", "甲流", "流行性感冒"),
    "诺如病毒": ("诺如病毒", "诺如"),
    "手足口病": ("手足口病", "手足口"),
    "流行性腮腺炎": ("流行性腮腺炎", "腮腺炎"),
}
_GRADE_ZH = {"IV": ("一般", "Ⅳ级", "一般(Ⅳ级)"), "III": ("较大", "Ⅲ级")}
#: Base units written with 万 when the figure is a round number of them.
_WAN_UNITS = frozenset({"平方米", "人次", "元"})


@dataclass(frozen=True)
class Mangle:
    """Deliberate damage: canonical fields replaced by raw text, or left out."""

    replace: Mapping[str, object] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    source: str | None = None


class Vocabulary:
    """The names of each plan target that ingest resolves to it alone (metric, plain unshared aliases)."""

    def __init__(self, plan: Plan) -> None:
        targets = [placed.target for placed in plan.placed_targets()]
        counts = Counter(_squeezed(name) for t in targets for name in {t.id, t.text, t.metric, *t.aliases})
        self._names = {
            t.id: tuple(
                name
                for name in dict.fromkeys([t.metric, *t.aliases])
                if counts[_squeezed(name)] == 1 and name.isalnum() and not name.isascii()
            )
            for t in targets
        }

    def names(self, target: Target) -> tuple[str, ...]:
        return self._names.get(target.id) or (target.id,)


def dress(draft: Draft, rng: random.Random, words: Vocabulary, mangle: Mangle | None = None) -> dict[str, object]:
    """The JSON object the unit's system sends for `draft`."""
    style = draft.reporter.style
    mangle = mangle or Mangle()
    writer = _Writer(style, rng, words)
    payload: dict[str, object] = {}

    def put(name: str, value: object) -> None:
        if name in mangle.drop or value is None:
            return
        payload[writer.key(name, school=draft.reporter.is_school)] = mangle.replace.get(name, value)

    put("kind", _KIND_ZH[draft.kind] if style.keys == "zh" else draft.kind)
    put("source", mangle.source or style.source)
    for name, value in draft.fields.items():
        if name == "target_id":
            continue  # what the simulator meant; never sent
        if name in mangle.replace:
            put(name, mangle.replace[name])
            continue
        put(name, writer.value(name, value, metric=str(draft.fields.get("metric", ""))))
    put("submitted_at", writer.stamp(draft.at))
    return payload


class _Writer:
    def __init__(self, style: Style, rng: random.Random, words: Vocabulary) -> None:
        self.style = style
        self.rng = rng
        self.words = words

    def key(self, name: str, *, school: bool) -> str:
        english, chinese = _KEYS[name]
        if self.style.keys == "en":
            return english
        if name == "source" and school:
            return self.rng.choice(_SCHOOL_SOURCE_KEYS)
        return self.rng.choice(chinese)

    def value(self, name: str, value: object, *, metric: str = "") -> object:
        zh = self.style.keys == "zh"
        if value is None:
            return None
        match name:
            case "indicator":
                assert isinstance(value, Target)
                return self.indicator(value)
            case "amount":
                assert isinstance(value, Amount)
                return self.amount(value)
            case "mode":
                return self.rng.choice(_MODE_ZH[str(value)]) if zh else value
            case "date":
                assert isinstance(value, date)
                return self.day(value)
            case "occurred_at" | "reported_at":
                assert isinstance(value, datetime)
                return self.moment(value)
            case "category":
                return self.rng.choice(_CATEGORY_ZH[str(value)]) if zh else _CATEGORY_EN[str(value)]
            case "disease":
                return self.rng.choice(_DISEASE_SPELLINGS.get(str(value), (str(value),)))
            case "grade":
                return self.rng.choice(_GRADE_ZH[str(value)]) if zh else value
            case "metric":
                english, chinese = _METRIC_NAMES[str(value)]
                return self.rng.choice(chinese) if zh else english
            case "value":
                return self.measured(value, metric)
            case "cases" | "deaths" | "injuries":
                return f"{value}人" if self.style.numbers == "text" and value else value
        return value

    def indicator(self, target: Target) -> str:
        if self.style.keys == "en" and self.rng.random() < 0.6:
            return target.id
        return self.rng.choice(self.words.names(target))

    def amount(self, amount: Amount) -> object:
        if amount.unit == RATIO:
            return f"{_plain(amount.value * 100)}%"
        if self.style.numbers == "plain":
            return _json_number(amount.value)
        return written_amount(amount, self.rng)

    def measured(self, value: object, metric: str) -> object:
        if not isinstance(value, int) or self.style.numbers == "plain" or self.rng.random() < 0.4:
            return value
        if metric == "class_size":
            return f"{value}人"
        hours, minutes = divmod(value, 60)
        return f"{hours}小时{minutes}分钟" if hours and minutes and self.rng.random() < 0.3 else f"{value}分钟"

    def day(self, day: date) -> str:
        match self.style.dates:
            case "zh":
                return f"{day.year}年{day.month}月{day.day}日"
            case "slash":
                return f"{day.year}/{day.month}/{day.day}"
        return day.isoformat()

    def moment(self, at: datetime) -> str:
        local = at.astimezone(SHANGHAI)
        match self.style.dates:
            case "zh":
                return f"{local.year}年{local.month}月{local.day}日 {local.hour}时{local.minute:02d}分"
            case "slash":
                return f"{local.year}/{local.month}/{local.day} {local.hour}:{local.minute:02d}"
        return local.strftime("%Y-%m-%d %H:%M")

    def stamp(self, at: datetime) -> str:
        local = at.astimezone(SHANGHAI)
        match self.style.stamp:
            case "iso_offset":
                return local.isoformat(timespec="seconds")
            case "zh":
                return f"{local.year}年{local.month}月{local.day}日 {local.hour}时{local.minute:02d}分"
        return local.strftime("%Y-%m-%d %H:%M")


def written_amount(amount: Amount, rng: random.Random) -> str:
    """`15400 平方米` -> `1.54万平方米`; `2.7e9 元` -> `27亿元`; `300 人次` -> `300人次` (sometimes `约300人次`)."""
    value, unit = amount.value, amount.unit
    if unit == "元" and value >= 10**8 and value % 10**6 == 0:
        return f"{_plain(value / 10**8)}亿元"
    if unit in _WAN_UNITS and value >= 10**4 and value % 100 == 0:
        return f"{_plain(value / 10**4)}万{unit}"
    prefix = "约" if unit in ("人次", "场次") and rng.random() < 0.15 else ""
    return f"{prefix}{_plain(value)}{unit}"


def _squeezed(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
