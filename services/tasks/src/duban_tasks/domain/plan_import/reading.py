"""Reading the commitments in one task's text: which figures are targets, how they compare, of
which kind, under which name — and which commitment-like phrases could not be read.

The rules follow the "Targets in Chinese plans" part of /work/shared/docs/domain-rules.md:
以上/不低于/不少于/达 are `>=`, 突破/超过 `>`, 以内/不超过 `<=`, 余 `>=`, a bare figure `>=`;
严禁…N以上 is a constraint `<=` N; 增长N% is growth relative to last year; ordinals are labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from duban_contracts.plan.model import Comparator, Schedule, TargetKind
from duban_contracts.units import ATTAINMENT, RATIO, SPELLINGS_LONGEST_FIRST

from .dates import DatedMention, dated_mentions, deadlines
from .descriptions import (
    counts_a_named_list,
    counts_the_plans_items,
    is_baseline,
    is_scope_of_coverage,
    names_a_class,
)
from .figures import (
    COMPARATOR_AFTER,
    Figure,
    bare_numbers,
    figures_with_unit_named_before,
    find_figures,
    with_quoted_percents,
)
from .formulas import find_formulas
from .levels import find_level
from .masking import mask_labels, normalise

CLAUSE_DELIMITERS = "。;,:!?\n"
SENTENCE_DELIMITERS = "。;!?\n"
_JOINERS = re.compile(r"^[\s、,和及与并]+|^以及|^同时")

#: Comparator words written before a figure, longest first so that 不超过 wins over 超过.
_COMPARATOR_BEFORE: tuple[tuple[str, Comparator], ...] = tuple(
    sorted(
        {
            "不低于": Comparator.GE, "不少于": Comparator.GE, "不小于": Comparator.GE, "至少": Comparator.GE,
            "最少": Comparator.GE, "达到": Comparator.GE, "达": Comparator.GE, "保持在": Comparator.GE,
            "≥": Comparator.GE, ">=": Comparator.GE,
            "不超过": Comparator.LE, "不高于": Comparator.LE, "不多于": Comparator.LE, "不大于": Comparator.LE,
            "最多": Comparator.LE, "至多": Comparator.LE, "控制在": Comparator.LE, "控制到": Comparator.LE,
            "≤": Comparator.LE, "<=": Comparator.LE,
            "低于": Comparator.LT, "少于": Comparator.LT, "小于": Comparator.LT, "不足": Comparator.LT,
            "<": Comparator.LT,
            "超过": Comparator.GT, "突破": Comparator.GT, "高于": Comparator.GT, "多于": Comparator.GT,
            "大于": Comparator.GT, ">": Comparator.GT,
        }.items(),
        key=lambda item: len(item[0]),
        reverse=True,
    )
)  # fmt: skip
_GROWTH_WORDS = ("同比增长", "增长", "提高", "提升", "增加", "上升", "增幅")
_DECLINE_WORDS = ("同比下降", "下降", "降低", "减少", "缩减", "压减")
_PROHIBITION = re.compile(r"严禁|禁止|不得|不准|不允许|杜绝|防止|避免|消除")
_LEVEL_WORDS = re.compile(r"总量|总数|累计|总计|保有量|拥有量|存量|总规模|人均|每[十百千万]+人|稳定在|保持在")
#: A frequency word: 每季度, 每学期, 双周 (every second week), 每旬 …
_EVERY_PERIOD = re.compile(
    r"每(?:个)?(?P<every>季度|两周|双周|半月|两个?月|月|年度?|周|星期|学期|半年|旬)|(?P<other>双周|隔周|双月)"
    # 周例会, 月调度, 季通报: a standing duty named with its period (not 3月巡查, a month).
    r"|(?<![\d一二三四五六七八九十两_])(?P<duty>周|月|季度|季|旬)(?=例会|例检|调度|巡查|通报|督查|督导|研判|讲评|点评)"
)
#: Single-character unit spellings (个, 所, 套, 片 …): the measure words that may follow 每 or 一.
_MEASURE_CHARACTERS = "".join(sorted({s for s in SPELLINGS_LONGEST_FIRST if len(s) == 1 and "\u4e00" <= s <= "\u9fff"}))
#: A per-item floor or limit: 生均, 每生, 每所, 每个, 每套 (any measure word after 每), 各校.
_EVERY_UNIT = re.compile(
    rf"生均|每(?:天|日|节|课|生|校|园|村|周|学期|年|季度|月|次|[{_MEASURE_CHARACTERS}])"
    r"|各(?:校|学校|班|园|单位|乡镇|镇|村|县|区|街道)"
)
#: 8件一套: a figure followed by 一 and a measure word is so many per item.
_PER_ITEM_AFTER = re.compile(rf"一[{_MEASURE_CHARACTERS}]")
Period = Literal["week", "month", "quarter", "year"]
#: Frequency word -> the schedule's period and how many times a period one occurrence per step makes.
_PERIODS: dict[str, tuple[Period, int]] = {
    "季度": ("quarter", 1), "月": ("month", 1), "年": ("year", 1), "年度": ("year", 1),
    "周": ("week", 1), "星期": ("week", 1), "学期": ("year", 2), "半年": ("year", 2), "旬": ("month", 3),
    "两周": ("year", 26), "双周": ("year", 26), "隔周": ("year", 26), "半月": ("month", 2),
    "两月": ("year", 6), "两个月": ("year", 6), "双月": ("year", 6), "季": ("quarter", 1),
}  # fmt: skip
#: A figure a copy blanked out: X家, XX%, X亿元.
_PLACEHOLDER = re.compile(
    r"(?<![A-Za-z])[Xx×]{1,3}\s*(?:%|"
    + "|".join(re.escape(s) for s in SPELLINGS_LONGEST_FIRST if not s.isascii())
    + r")"
)
#: A rank to reach: 进入全市前三, 保持全省前列 is no figure at all.
_RANK = re.compile(r"(?:进入|保持|位居|位列|稳居|跻身)[^,;。]{0,10}前[一二三四五六七八九十\d]+")
#: A floor on the size of each thing built: 篮球场占地面积不少于560平方米.
_SIZE_OF_EACH = re.compile(r"(?:占地|建筑|使用|比赛区)?面积|宽度|长度|高度|容量|标准")
_SIZE_IS_TOTAL = re.compile(r"新增|新建|增加|扩大|总|累计|人均|全[区县市省]")
_FREQUENCY_UNITS = {"次", "期", "场次"}

#: Verbs a counted promise starts with; a Chinese numeral right after one is a count (新建三所).
COMMIT_VERBS = (
    "新建", "建成", "建设", "改建", "扩建", "新增", "创建", "打造", "培育", "培养", "培训", "举办", "开展",
    "组织", "召开", "完成", "引进", "招聘", "招录", "补充", "采购", "配备", "评选", "表彰", "申报", "实施",
    "发展", "认定", "命名", "建立", "设立", "遴选", "选派", "资助", "改造", "维修", "新培育", "新创建",
    "举行", "开设", "推出", "创作", "编印", "发放", "送教", "慰问", "落实", "评定", "认证", "新设",
    "输送",
)  # fmt: skip
#: Words around a metric that frame the promise rather than name what is counted.
_FRAME_WORDS = (
    "力争", "争取", "确保", "保证", "努力", "力求", "全年", "年内", "计划", "预计", "共计", "实现", "持续",
    "进一步", "严禁", "禁止", "不得", "同时", "抓好", "做好", "要", "将", "并", "共", "约", "累计",
)  # fmt: skip
_BASELINE_WORDS = ("同比", "环比", "较上年", "较去年", "比上年", "比去年", "较上一年")
_TAIL_WORDS = (
    *(word for word, _ in _COMPARATOR_BEFORE), *_GROWTH_WORDS, *_DECLINE_WORDS,
    *_FRAME_WORDS, *_BASELINE_WORDS, "分别", "均", "都", "各", "到", "至", "为", "在", "共", "约", "近", "了",
    "稳定在",
)  # fmt: skip
_GENERIC_HEADS = ("总量", "总数", "总计", "总额", "总规模", "累计")
_QUOTES = re.compile(r"[“”\"‘’《》「」『』\s]")
_LEVEL_ONLY = re.compile(r"^(?:国家|省|市|州|县|区|乡镇|镇|校)级?$")
_LIST_COUNT = re.compile(r"^(?P<items>.+?)(?:\d+|[一二两三四五六七八九十]+)项(?:指标)?(?:均|都|各|分别)?")
_EACH = re.compile(r"^(?P<items>.+?(?:、|和|及|与).+?)(?:均|都|各)")
_ITEM_MARKER = re.compile(
    r"^(?:\d{1,3}\s*[.、．](?!\d)|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+、)\s*"
)


@dataclass(frozen=True)
class Draft:
    """A target as read from the text, before it gets an id."""

    text: str
    metric: str
    value: float
    unit: str
    comparator: Comparator
    kind: TargetKind
    due: date | None = None
    start: date | None = None
    schedule: Schedule | None = None
    notes: str | None = None
    value_range: tuple[float, float] | None = None  # 3-4所: (3, 4); value is the low end
    standard: str | None = None  # the level a level target names


@dataclass(frozen=True)
class Unread:
    text: str
    reason: str


@dataclass
class Reading:
    drafts: list[Draft] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)


def read_commitments(text: str, *, year: int) -> Reading:
    """The targets one task's text promises, and the promise-like phrases it could not read."""
    return _TaskText(text, year).read()


@dataclass(frozen=True)
class _Segment:
    start: int  # where the phrase of a figure begins (after joiners)
    end: int  # where it ends (after a trailing noun, before the next 、 or delimiter)
    figure: Figure


class _TaskText:
    def __init__(self, text: str, year: int) -> None:
        self.original = text
        self.year = year
        normalised = normalise(text)
        self.dated = dated_mentions(normalised, year)
        self.deadlines = deadlines(normalised, year)
        self.masked = mask_labels(normalised)
        for deadline in self.deadlines:
            self.masked = (
                self.masked[: deadline.start] + "_" * (deadline.end - deadline.start) + self.masked[deadline.end :]
            )
        self.normalised = normalised

    def read(self) -> Reading:
        reading = Reading()
        for start, end in _spans(self.masked, 0, len(self.masked), SENTENCE_DELIMITERS):
            sentence = Reading()
            for clause_start, clause_end in _spans(self.masked, start, end, CLAUSE_DELIMITERS):
                self._read_clause(clause_start, clause_end, sentence, sentence_start=start)
            due = next((d.due for d in self.deadlines if start <= d.start < end), None)
            reading.drafts += [d if d.due or not due else replace(d, due=due) for d in sentence.drafts]
            reading.unread += sentence.unread
        reading.drafts += self._dated_events()
        return reading

    # --- clauses -------------------------------------------------------------------------------

    def _read_clause(self, start: int, end: int, reading: Reading, *, sentence_start: int) -> None:
        figures = self._figures(start, end)
        frequencies = list(_EVERY_PERIOD.finditer(self.masked, start, end))
        if frequencies:
            counted = [f for f in figures if f.start >= frequencies[0].start()]
            if all(f.unit in _FREQUENCY_UNITS for f in counted):
                # 为120名适龄残疾儿童每月送教上门不少于2次: a count, then what recurs; 实行月调度、
                # 季通报: one duty per frequency word.
                first = start if counted == figures else frequencies[0].start()
                for index, every in enumerate(frequencies):
                    duty_end = frequencies[index + 1].start() if index + 1 < len(frequencies) else end
                    times = [f for f in counted if every.start() <= f.start < duty_end]
                    if not is_baseline(self.normalised, sentence_start, every.start(), self.year):
                        duty_start = first if index == 0 else every.start()
                        reading.drafts.append(self._periodic(duty_start, duty_end, every, times))
                figures, end = [f for f in figures if f not in counted], frequencies[0].start()
        figures = [f for f in figures if self._counts(f, start, end, figures)]
        if is_scope_of_coverage(figures, bool(find_formulas(self.normalised, start, end))):
            figures = []
        figures = [f for f in figures if self._promises(f, start, sentence_start)]
        segments = self._segments(start, end, figures)
        reading.drafts += self._formulas(start, end, figures)
        reading.drafts += self._level(start, end, figures, sentence_start)
        previous: list[Draft] = []
        consumed: set[int] = set()
        for index, segment in enumerate(segments):
            if index in consumed:
                continue
            paired = self._paired(segments, index)
            if paired:
                consumed.update(range(index, index + len(paired)))
                drafts = paired
            else:
                drafts = self._drafts(segment, previous, reading)
            reading.drafts += drafts
            previous += drafts
        reading.unread += self._unread_bare_numbers(start, end, figures)
        reading.unread += self._unread_placeholders_and_ranks(start, end)

    def _figures(self, start: int, end: int) -> list[Figure]:
        figures = with_quoted_percents(find_figures(self.masked, start, end), self.normalised, start, end)
        figures = sorted(
            [*figures, *figures_with_unit_named_before(self.masked, start, end, figures)], key=lambda f: f.start
        )
        # 8件一套: the 一套 says "per set" and counts nothing.
        return [
            f
            for f in figures
            if not (f.numeral == "一" and any(other.stop == f.start for other in figures if other is not f))
        ]

    def _promises(self, figure: Figure, start: int, sentence_start: int) -> bool:
        """Whether a quantity is promised, rather than describing what is (现有…, 已建成…), a list of
        names (A、B、C3家) or a class of things (研发投入过5000万元的企业)."""
        before = self.masked[start : figure.start]
        return not (
            is_baseline(self.normalised, sentence_start, figure.start, self.year)
            or counts_a_named_list(before, figure, promise_verbs=COMMIT_VERBS, linking_words=_TAIL_WORDS)
            or counts_the_plans_items(self.masked, figure)
            or names_a_class(before)
        )

    def _level(self, start: int, end: int, figures: list[Figure], sentence_start: int) -> list[Draft]:
        """创建为四星级高中, 学校装备达省Ⅰ类标准: one attainment, in a clause without figures."""
        if figures:
            return []
        level = find_level(self.masked, self.normalised, start, end)
        if level is None or is_baseline(self.normalised, sentence_start, level.start, self.year):
            return []
        subject = _clean_metric(self.original[start : level.start])
        return [
            Draft(
                text=self._text(start, end),
                metric=f"{subject}达到{level.standard}" if subject else f"达到{level.standard}",
                value=1,
                unit=ATTAINMENT,
                comparator=Comparator.GE,
                kind=TargetKind.LEVEL,
                standard=level.standard,
                notes=f"等级或标准：{level.standard}（达到即完成）",
            )
        ]

    def _counts(self, figure: Figure, start: int, end: int, figures: list[Figure]) -> bool:
        """Whether a figure is a quantity at all (and not 中央八项规定, 四项增长 or 二次全会)."""
        if self._is_list_count(figure, start, figures):
            return False
        if not figure.chinese and not figure.guessed_unit:
            return True
        if len(figure.numeral) > 1 and not figure.guessed_unit:
            return True  # 为二百六十间教室: a numeral of several characters is a number, not a word
        after = self.masked[figure.stop : figure.stop + 1]
        if not after or after in CLAUSE_DELIMITERS + "、" or figure.stop >= end:
            return True
        before = re.sub(r"(?:共|约|了|近|各|总计)$", "", self.masked[start : figure.start])
        return before.endswith(COMMIT_VERBS)

    def _is_list_count(self, figure: Figure, start: int, figures: list[Figure]) -> bool:
        """四项 in 本科上线人数、一本上线人数…四项增长10%以上 counts the list, not a target."""
        if figure.spelling != "项" or "、" not in self.masked[start : figure.start]:
            return False
        later = [f for f in figures if f.start >= figure.stop]
        if not later:
            return False
        between = self.masked[figure.stop : later[0].start]
        return len(between) <= 8 and not re.search(r"[,、]", between)

    def _segments(self, start: int, end: int, figures: list[Figure]) -> list[_Segment]:
        segments = []
        cursor = start
        for index, figure in enumerate(figures):
            limit = figures[index + 1].start if index + 1 < len(figures) else end
            trailing = re.match(r"[^、,和及与并]*", self.masked[figure.stop : limit])
            seg_end = figure.stop + (trailing.end() if trailing else 0)
            joiners = _JOINERS.match(self.masked[cursor : figure.start])
            seg_start = cursor + (joiners.end() if joiners else 0)
            segments.append(_Segment(seg_start, seg_end, figure))
            cursor = seg_end
        return segments

    # --- drafts --------------------------------------------------------------------------------

    def _drafts(self, segment: _Segment, previous: list[Draft], reading: Reading) -> list[Draft]:
        figure = segment.figure
        text = self._text(segment.start, segment.end)
        if figure.unit is None or self.masked[figure.start - 1 : figure.start] == "前":
            reason = "名次目标，不是人数" if figure.unit is not None else f"“{figure.spelling}”不能换算为基本单位"
            reading.unread.append(Unread(text, reason))
            return []
        before = self.masked[segment.start : figure.start]
        comparator, kind, value, notes = self._judge(figure, before)
        value_range = (value, figure.high) if figure.high is not None and value == figure.value else None
        items = self._distributed_items(segment.start, figure.start)
        if items:
            return [
                Draft(text, _clean_metric(item), value, figure.unit, comparator, kind, notes=notes,
                      value_range=value_range)
                for item in items
            ]  # fmt: skip
        metric = self._metric(segment, previous, reading.drafts[-1:])
        return [Draft(text, metric, value, figure.unit, comparator, kind, notes=notes, value_range=value_range)]

    def _judge(self, figure: Figure, before: str) -> tuple[Comparator, TargetKind, float, str | None]:
        """Comparator, kind, value (signed for a decline) and notes of a figure, from the words before
        it (`before`, the segment's masked text) and right after it."""
        comparator = _comparator(figure, before)
        value = figure.value
        notes: list[str] = []
        change = _change_word(before)
        prohibited = bool(_PROHIBITION.search(before))
        if prohibited and comparator in (Comparator.GE, Comparator.GT):
            comparator = Comparator.LE
            notes.append(f"原文为禁止线：超过{_plain(figure.value)}{figure.unit}即违规（阈值可配置）")
        if figure.approximate:
            notes.append("约数（余/多），按不少于读取")
        if figure.unit == RATIO and change in _DECLINE_WORDS:
            value = -value
            comparator = {Comparator.GE: Comparator.LE, Comparator.GT: Comparator.LT}.get(comparator, comparator)
        if figure.spelling.endswith("百分点"):
            notes.append("百分点为绝对增幅")
        if prohibited:
            kind = TargetKind.CONSTRAINT
        elif figure.unit == RATIO:
            kind = _ratio_kind(change, figure, value, comparator)
            if kind is TargetKind.GROWTH and not figure.spelling.endswith("百分点"):
                notes.append("相对上年增长，需基线")
        elif (
            _EVERY_UNIT.search(before)
            or comparator in (Comparator.LE, Comparator.LT)
            or _PER_ITEM_AFTER.match(self.masked, figure.stop)
            or self._sizes_each(figure, before)
        ):
            kind = TargetKind.CONSTRAINT
        elif _LEVEL_WORDS.search(before):
            kind = TargetKind.LEVEL
        else:
            kind = TargetKind.CUMULATIVE_COUNT
        return comparator, kind, value, "；".join(notes) or None

    def _sizes_each(self, figure: Figure, before: str) -> bool:
        """混凝土标准篮球场占地面积不少于560平方米, 面积不少于210平方米的…篮球场: a floor on the size of
        each thing (a standard), not a total to build."""
        explicit = _comparator_word(before) is not None
        attributive = self.masked.startswith("的", figure.stop)
        sized = bool(_SIZE_OF_EACH.search(before)) and not _SIZE_IS_TOTAL.search(before)
        return explicit and (attributive or sized)

    def _distributed_items(self, start: int, figure_start: int) -> list[str]:
        """The listed items a shared figure applies to each of: A、B、C三项增长10%, A、B均达到95%,
        2023年、2024年各80张, 城区和乡镇各建1所 (各N over listed years or places: one target each)."""
        before = self.masked[start:figure_start]
        found = _LIST_COUNT.match(before) or _EACH.match(before)
        if not found or not re.search(r"、|和|及|与", found.group("items")):
            return []
        items_end = start + found.end("items")
        return self._split_list(start, items_end)

    def _split_list(self, start: int, end: int) -> list[str]:
        items, cursor = [], start
        for separator in re.finditer(r"、|和|及|与", self.masked[start:end]):
            items.append(self.original[cursor : start + separator.start()])
            cursor = start + separator.end()
        items.append(self.original[cursor:end])
        return [item for item in items if item.strip()]

    def _paired(self, segments: list[_Segment], index: int) -> list[Draft]:
        """小学、初中入学率分别达到100%、99%: items and figures in the same order."""
        first = segments[index]
        before = self.masked[first.start : first.figure.start]
        if "分别" not in before or "、" not in before:
            return []
        run = [first]
        for later in segments[index + 1 :]:
            if later.figure.start != later.start:
                break
            run.append(later)
        items = self._split_list(first.start, first.start + before.index("分别"))
        if len(run) < 2 or len(items) != len(run):
            return []
        text = self._text(first.start, run[-1].end)
        drafts = []
        for item, segment in zip(items, run, strict=True):
            comparator, kind, value, notes = self._judge(segment.figure, before)
            unit = segment.figure.unit or ""
            drafts.append(Draft(text, _clean_metric(item), value, unit, comparator, kind, notes=notes))
        return [d for d in drafts if d.unit]

    def _metric(self, segment: _Segment, previous: list[Draft], earlier: list[Draft]) -> str:
        """What the figure counts. `previous` holds the targets read earlier in the same clause,
        `earlier` the last one of the sentence, for 总量达20家 or 同比增长8% that name no noun."""
        figure = segment.figure
        before_text = self.masked[segment.start : figure.start]
        cut = _comparator_inside(before_text)
        prefix = _clean_metric(self.original[segment.start : segment.start + cut])
        trailing = _clean_metric(self.original[figure.stop : segment.end]).removeprefix("的")
        name = _strip_leading(prefix + trailing, _FRAME_WORDS)
        context = previous or earlier
        if context and not name and figure.unit == RATIO:
            # 体育产业总规模达到8亿元，同比增长8%以上: the growth of what was just named.
            return _without_verb(context[-1].metric) + (_change_word(before_text) or "")
        if context and (not name or name.startswith(_GENERIC_HEADS)):
            return _without_verb(context[-1].metric) + name
        if not previous:
            return name or "未命名指标"
        first = previous[0].metric
        if _LEVEL_ONLY.match(name) and "级" in first:
            level = re.search(r"(?:国家|省|市|州|县|区|乡镇|镇|校)级?", first)
            if level:
                return first[: level.start()] + name.removesuffix("级") + "级" + first[level.end() :]
        verb = next((v for v in sorted(COMMIT_VERBS, key=len, reverse=True) if first.startswith(v)), "")
        if verb and not name.startswith(COMMIT_VERBS):
            return verb + name
        return name or first

    def _periodic(self, start: int, end: int, every: re.Match[str], figures: list[Figure]) -> Draft:
        period, per_period = _PERIODS[every.group("every") or every.group("other") or every.group("duty")]
        times = max(1, round(figures[0].value) if figures else 1) * per_period
        after = "".join(self.original[a:b] for a, b in _gaps(every.end(), end, [(f.start, f.stop) for f in figures]))
        name = _strip_leading(_clean_metric(after), ("至少", "不少于", "召开", "开展", "组织", "举办", "进行"))
        if len(name) < 2 or _comparator_word(name) or name in _TAIL_WORDS:
            # 校园食品安全检查每月不少于1次: what recurs is named before the frequency word.
            name = _clean_metric(self.original[start : every.start()])
        name = re.sub(r"(?<=.)(?:制度|机制)$", "", name)
        if every.group("duty"):
            name = every.group("duty") + name  # 月调度, 周例会
        return Draft(
            text=self._text(start, end),
            metric=name or "定期工作",
            value=times,
            unit="次",
            comparator=Comparator.GE,
            kind=TargetKind.PERIODIC,
            schedule=Schedule(every=period, times=times),
            notes=f"原文：{every.group()}{_plain(figures[0].value) if figures else '一'}次" if per_period > 1 else None,
        )

    def _formulas(self, start: int, end: int, figures: list[Figure]) -> list[Draft]:
        """Promises stated as set phrases (全覆盖, 只增不减, 零发生) in a clause that has no figure."""
        if figures:
            return []
        drafts = []
        for found in find_formulas(self.normalised, start, end):
            label = _QUOTES.sub("", self.normalised[found.start : found.end])
            name = _strip_leading(_clean_metric(self.original[start : found.start]), ("推进", "推动", "基本", "完成"))
            formula = found.formula
            for index in range(1, found.count + 1):
                drafts.append(
                    Draft(
                        text=self._text(start, end),
                        metric=f"{label}之{index}" if found.count > 1 else (name if len(name) > 2 else label),
                        value=formula.value,
                        unit=formula.unit,
                        comparator=formula.comparator,
                        kind=formula.kind,
                        notes=formula.note + ("；请按实际含义拆分命名" if found.count > 1 else ""),
                    )
                )
        return drafts

    def _dated_events(self) -> list[Draft]:
        drafts: list[Draft] = []
        seen: set[tuple[date | None, date]] = set()
        for mention in self.dated:
            if (mention.start_date, mention.due) in seen:
                continue
            seen.add((mention.start_date, mention.due))
            drafts.append(self._dated_draft(mention))
        return drafts

    def _dated_draft(self, mention: DatedMention) -> Draft:
        bounds = CLAUSE_DELIMITERS + "、"
        start = max(self.masked.rfind(d, 0, mention.start) for d in bounds) + 1
        ends = [i for d in bounds if (i := self.masked.find(d, mention.end)) >= 0]
        return Draft(
            text=self._text(start, min(ends, default=len(self.masked))),
            metric=mention.name,
            value=1,
            unit="次",
            comparator=Comparator.GE,
            kind=TargetKind.DATED_EVENT,
            due=mention.due,
            start=mention.start_date,
        )

    # --- unread --------------------------------------------------------------------------------

    def _unread_bare_numbers(self, start: int, end: int, figures: list[Figure]) -> list[Unread]:
        """A number next to a comparator word but with no unit: 平均分不低于85."""
        for number_start, number_end in bare_numbers(self.masked, start, end, figures):
            before, after = self.masked[start:number_start], self.masked[number_end:end]
            if _comparator_word(before) or after.startswith(tuple(COMPARATOR_AFTER)):
                return [Unread(self._text(start, end), "数字没有单位")]
        return []

    def _unread_placeholders_and_ranks(self, start: int, end: int) -> list[Unread]:
        """新增高新技术企业X家 (the figure blanked out in the copy), 进入全市前三 (a rank): promises
        whose figure cannot be read."""
        clause = self.masked[start:end]
        if _PLACEHOLDER.search(clause):
            return [Unread(self._text(start, end), "数字缺失（原文为X）")]
        if _RANK.search(clause) and not re.search(r"前[一二三四五六七八九十\d]+[名位]", clause):
            return [Unread(self._text(start, end), "名次目标，不是数量")]
        return []

    def _text(self, start: int, end: int) -> str:
        return _ITEM_MARKER.sub("", self.original[start:end].strip())


# --- helpers -----------------------------------------------------------------------------------


def _spans(text: str, start: int, end: int, delimiters: str) -> list[tuple[int, int]]:
    spans, cursor = [], start
    for index in range(start, end):
        if text[index] in delimiters:
            if index > cursor:
                spans.append((cursor, index))
            cursor = index + 1
    if end > cursor:
        spans.append((cursor, end))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _gaps(start: int, end: int, holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    gaps, cursor = [], start
    for a, b in sorted(holes):
        if a >= cursor:
            gaps.append((cursor, a))
            cursor = b
    gaps.append((cursor, end))
    return [(a, b) for a, b in gaps if b > a]


def _comparator_word(before: str) -> tuple[str, Comparator] | None:
    stripped = before.rstrip()
    return next(((w, c) for w, c in _COMPARATOR_BEFORE if stripped.endswith(w)), None)


def _comparator(figure: Figure, before: str) -> Comparator:
    after = COMPARATOR_AFTER.get(figure.bound)
    if after in (Comparator.LE, Comparator.LT):
        return after
    word = _comparator_word(before)
    return word[1] if word else Comparator.GE


def _comparator_inside(before: str) -> int:
    """Where a metric ends when a comparator stands inside the phrase: 教师培训经费|不低于公用经费的5%."""
    positions = [before.find(word) for word, _ in _COMPARATOR_BEFORE if len(word) > 1 and before.find(word) > 0]
    return min(positions, default=len(before))


def _change_word(before: str) -> str | None:
    """增长 in 增长10%以上 or 增长不低于10%; not 提高 in 提高到95%, which is a level."""
    stripped = before.rstrip()
    while (word := _comparator_word(stripped)) is not None:
        stripped = stripped[: -len(word[0])].rstrip()
    return next((w for w in (*_GROWTH_WORDS, *_DECLINE_WORDS) if stripped.endswith(w)), None)


def _ratio_kind(change: str | None, figure: Figure, value: float, comparator: Comparator) -> TargetKind:
    if change or figure.spelling.endswith("百分点"):
        return TargetKind.GROWTH
    if value >= 1 and comparator in (Comparator.GE, Comparator.GT, Comparator.EQ):
        return TargetKind.COVERAGE
    return TargetKind.RATIO


def _clean_metric(raw: str) -> str:
    name = _QUOTES.sub("", _ITEM_MARKER.sub("", raw.strip())).strip(" ,、")
    name = _strip_leading(_strip_trailing(name, _TAIL_WORDS), _FRAME_WORDS)
    return "" if name in _BASELINE_WORDS else name


def _strip_leading(name: str, words: tuple[str, ...]) -> str:
    ordered = sorted(words, key=len, reverse=True)
    while True:
        word = next((w for w in ordered if name.startswith(w) and len(name) > len(w)), None)
        if word is None:
            return name
        name = name[len(word) :]


def _strip_trailing(name: str, words: tuple[str, ...]) -> str:
    ordered = sorted(words, key=len, reverse=True)
    while True:
        word = next((w for w in ordered if name.endswith(w) and len(name) > len(w)), None)
        if word is None:
            return name
        name = name[: -len(word)]


def _without_verb(metric: str) -> str:
    return _strip_leading(metric, COMMIT_VERBS)


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
