"""Figures that describe rather than promise.

A plan names quantities that are not commitments for its year, and the corpus's reading rules
(tests/tasks/plan_corpus/README.md) leave them out:

- what exists or was done before the plan year: 现有…, 已建成…, 2022年完成… (a baseline);
- the count of a list of (three or more) named things: 重点抓好中冶银河、三和纺织、海亮奥博特3家…企业
  (the names are the content; the count only sums them) — unless a verb of the promise stands before the list
  (新建、改扩建中小学校和幼儿园5所, 创建国家、省、市、区级…学校10所);
- a class of things: 研发投入过5000万元的企业 (过 = "over", naming which enterprises);
- the scope of a coverage promise: 对全市34所…学校实行课后服务全覆盖 (the promise is the coverage);
- the count of the plan's own items: 办好10件民生实事, 2项核心指标, 六个方面.

Every function reads the masked or normalised text of one task (same offsets) and decides for one
figure; none of them knows the sentence structure beyond its clause and sentence.
"""

from __future__ import annotations

import re

from duban_contracts.units import RATIO

from .figures import Figure

#: Words that say a figure is what already is or was: 现有, 已建成, 目前, 去年 …
_BASELINE = re.compile(
    r"现有(?!基础)|已有|已经|已(?:建成|建|完成|累计|达到|达|实现|培育|认定|创建|投入|开工|获批|入选|拥有)"
    r"|共有|目前|去年|上年度?|过去|以来|年来|近[一二两三四五六七八九十\d]+年"
)
#: Before a baseline word or a past year, these make it the base of a comparison: 较上年, 比2022年.
_COMPARISON = ("较", "比", "与", "同", "相比", "在", "于", "对比")
#: From these on, a sentence speaks of the plan year again: 2022年完成…, 今年力争….
_PROMISE_RESET = re.compile(r"今年|本年度?|明年|年内|年底|力争|争取|计划|确保|目标|预计|全年")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?!度?\s*[-—~至到])")

#: A list of names has at least three: 中冶银河、三和纺织、海亮奥博特.
_LIST_MIN_ITEMS = 3

#: 过 as "over" in a description (过亿元企业), not 超过 / 通过 / 经过 …
_OVER_WORDS = ("超过", "不过", "通过", "经过", "越过", "度过", "跨过", "错过", "穿过")


def is_baseline(normalised: str, sentence_start: int, figure_start: int, plan_year: int) -> bool:
    """现有学校58所, 2022年完成投资3亿元: the figure reports what is, not what the plan promises."""
    scope_start = sentence_start
    for reset in _PROMISE_RESET.finditer(normalised, sentence_start, figure_start):
        scope_start = reset.end()
    scope = normalised[scope_start:figure_start]
    for marker in _BASELINE.finditer(scope):
        if not scope[: marker.start()].rstrip().endswith(_COMPARISON):
            return True
    for year in _YEAR.finditer(scope):
        if int(year.group(1)) < plan_year and not scope[: year.start()].rstrip().endswith(_COMPARISON):
            return True
    return False


def counts_a_named_list(
    before: str, figure: Figure, *, promise_verbs: tuple[str, ...], linking_words: tuple[str, ...]
) -> bool:
    """中冶银河、三和纺织、海亮奥博特3家: the figure sums the names listed right before it.

    `before` is the clause's masked text up to the figure. The last item must run straight into the
    figure (no comparator or other linking word such as 突破, 分别, 为 between), and no promise verb
    may stand in the clause before it: 新建A、B2所 promises two schools."""
    items = before.split("、")
    if figure.unit == RATIO or len(items) < _LIST_MIN_ITEMS or re.search(r"\d", before):
        return False
    if any(len(item.strip()) < 2 for item in items[1:]):
        return False  # 省、市专业队 names levels, not things
    last = items[-1].removesuffix("等")
    if not last or len(last) > 16 or re.search(r"是|于|过|率|[\d_]", last) or any(w in last for w in linking_words):
        return False
    return not any(verb in before for verb in promise_verbs)


def names_a_class(before: str) -> bool:
    """研发投入过5000万元的企业: 过 + figure describes which things are meant."""
    stripped = before.rstrip()
    return stripped.endswith("过") and not stripped.endswith(_OVER_WORDS)


def is_scope_of_coverage(figures: list[Figure], coverage_at_end: bool) -> bool:
    """对全市34所义务教育学校实行课后服务全覆盖: counts in a clause that ends in 全覆盖 are its scope."""
    return coverage_at_end and bool(figures) and all(f.unit != RATIO for f in figures)


#: What a plan calls its own items: 10件民生实事, 8项重点任务, 2项核心指标, 六个方面.
_PLAN_ITEMS = re.compile(
    r"(?:民生|为民|重点|核心|主要|关键|惠民)?(?:实事|工作|任务|举措|措施|指标|方面|要点|领域|板块)"
    r"(?![\u4e00-\u9fff]{0,2}(?:项目|学校|基地|中心))"
)


def counts_the_plans_items(masked: str, figure: Figure) -> bool:
    """办好10件民生实事, 实施8项重点任务: the figure counts the plan's own list, not an outcome."""
    if figure.spelling not in {"件", "项", "个"}:
        return False
    return bool(_PLAN_ITEMS.match(masked, figure.end))
