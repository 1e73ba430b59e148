"""Incident vocabulary: categories and their everyday synonyms, grades, and disease names.

Categories are those of `duban_contracts.events.IncidentCategory`, i.e. the hazards task 24 of the
plan names (防溺水、交通安全、消防安全、森林防灭火、食品卫生、防一氧化碳中毒、防汛减灾、防欺凌、防暴力伤害)
plus 传染病 (task 23) and 其他.

Grades are those of 生产安全事故报告和调查处理条例 (国务院令第493号): Ⅰ 特别重大, Ⅱ 重大, Ⅲ 较大, Ⅳ 一般.

Disease names are brought to one spelling so that cluster rules (手足口病 ≥2 per class, 流感 ≥10 in
7 days …) see one name per disease; a disease not listed is kept as written, never refused — new
diseases do appear.
"""

from __future__ import annotations

import re
from typing import Literal

from duban_contracts.events import IncidentCategory

from .text import compact

Grade = Literal["I", "II", "III", "IV"]

_CATEGORY_SYNONYMS: dict[IncidentCategory, tuple[str, ...]] = {
    IncidentCategory.DROWNING: ("溺水", "溺亡", "淹溺", "溺水事故", "防溺水", "drowning"),
    IncidentCategory.TRAFFIC: ("交通", "交通事故", "交通安全", "道路交通事故", "车祸", "校车事故", "traffic"),
    IncidentCategory.FIRE: ("火灾", "火情", "失火", "火灾事故", "消防安全", "fire"),
    IncidentCategory.FOREST_FIRE: ("森林火灾", "森林火情", "山火", "林火", "森林防灭火", "forest_fire"),
    IncidentCategory.FOOD_SAFETY: (
        "食品安全",
        "食物中毒",
        "食品中毒",
        "集体食物中毒",
        "食源性疾病",
        "食品安全事故",
        "食品卫生",
        "food_safety",
    ),
    IncidentCategory.CARBON_MONOXIDE: ("一氧化碳中毒", "煤气中毒", "co中毒", "carbon_monoxide"),
    IncidentCategory.NATURAL_DISASTER: (
        "自然灾害",
        "洪涝",
        "洪水",
        "地震",
        "滑坡",
        "山体滑坡",
        "泥石流",
        "暴雨",
        "雷击",
        "冰雹",
        "地质灾害",
        "汛情",
        "防汛减灾",
        "natural_disaster",
    ),
    IncidentCategory.BULLYING: ("欺凌", "校园欺凌", "学生欺凌", "霸凌", "校园霸凌", "bullying"),
    IncidentCategory.VIOLENCE: ("暴力伤害", "暴力", "校园暴力", "斗殴", "打架", "打架斗殴", "伤人", "伤害", "violence"),
    IncidentCategory.INFECTIOUS_DISEASE: (
        "传染病",
        "传染病疫情",
        "疫情",
        "聚集性疫情",
        "聚集性病例",
        "infectious_disease",
    ),
    IncidentCategory.OTHER: ("其他", "其它", "其他事故", "other"),
}
_CATEGORIES = {compact(s): category for category, spellings in _CATEGORY_SYNONYMS.items() for s in spellings}

_DISEASE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "流感": ("流行性感冒", "甲流", "乙流", "甲型流感", "乙型流感", "流感样病例", "甲型h1n1流感"),
    "诺如病毒": ("诺如", "诺如病毒感染", "诺如病毒感染性腹泻", "诺如病毒胃肠炎"),
    "手足口病": ("手足口",),
    "流行性腮腺炎": ("腮腺炎",),
    "麻疹": (),
    "水痘": (),
    "风疹": (),
    "猩红热": (),
    "新型冠状病毒感染": ("新冠", "新冠肺炎", "新型冠状病毒", "新冠病毒感染", "covid-19"),
    "肺结核": ("结核", "结核病"),
    "细菌性痢疾": ("痢疾", "菌痢"),
    "其他感染性腹泻": ("感染性腹泻", "腹泻"),
    "艾滋病": ("hiv", "艾滋"),
}
_DISEASES = {compact(s): name for name, spellings in _DISEASE_SYNONYMS.items() for s in (name, *spellings)}

_GRADE_WORDS: dict[str, Grade] = {
    "I": "I", "1": "I", "一": "I", "特别重大": "I",
    "II": "II", "2": "II", "二": "II", "重大": "II",
    "III": "III", "3": "III", "三": "III", "较大": "III",
    "IV": "IV", "4": "IV", "四": "IV", "一般": "IV",
}  # fmt: skip
_GRADE_NOISE = re.compile(r"级别|级|突发|公共|安全|事故|事件|[()\[\]]")
_GRADE_PARTS = re.compile(r"[()\[\]/、,]")


def category_names() -> tuple[str, ...]:
    return tuple(category.value for category in IncidentCategory)


def parse_category(text: str) -> IncidentCategory | None:
    """`食物中毒` -> 食品安全; `校园欺凌` -> 欺凌; unknown -> None."""
    key = compact(text)
    return _CATEGORIES.get(key) or _CATEGORIES.get(key.removesuffix("事故").removesuffix("事件"))


def canonical_disease(text: str) -> str:
    """`甲流` -> 流感, `手足口` -> 手足口病; a disease not listed is returned as written."""
    return _DISEASES.get(compact(text), " ".join(text.split()))


def parse_grade(text: str) -> Grade | None:
    """`Ⅳ级`, `IV`, `4级`, `四级`, `一般`, `一般(Ⅳ级)` -> 'IV'; anything else -> None.

    When a grade is written twice (`一般(Ⅳ级)`), both must agree.
    """
    parts = [part for part in _GRADE_PARTS.split(compact(text).upper()) if part]
    grades = {_GRADE_WORDS.get(_GRADE_NOISE.sub("", part)) for part in parts}
    if len(grades) != 1:
        return None
    return grades.pop()
