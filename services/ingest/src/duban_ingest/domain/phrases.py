"""Clerks' phrases for plan targets: read into canonical words and units, then scored against the plan's.

A clerk does not copy the plan's phrase; they shorten it, add 全区 or 以上, write the figure in 万 or in
Chinese numerals, say 老师 for 教师 and swap words. Both sides are therefore *read* the same way:

1. NFKC and lower case; thousands commas and dates (2023年, 5月12日) removed;
2. figures (`1.54万平方米`, `一万二千`, `10%以上`, `2,780个`) taken out, keeping the base unit they are in;
   a unit named alone (`（平方米）`, `面积`, `人数`) taken out the same way; an ordinal (`第39个`) stays;
3. punctuation, quotes and spaces removed; scope, hedge and filler words dropped; synonyms replaced by
   their canonical word (the lists are data: `phrases.yaml`).

A reading is then *scored* against each entry (a target, or a metric) by the characters and pairs of
neighbouring characters they share, each weighted by how informative it is among the entries (inverse
document frequency: 校舍 tells more than 新建). The score is the share of what the clerk typed that the
entry's phrases explain — a character no entry has counts heavily against, since it is something the plan
does not speak of — scaled down a little when no single phrase of the entry is close to what was typed.
A figure adds nothing to the score: the clerk may be writing their own figure, not the plan's. Its unit
only rules out entries of another unit family (2个 is no 元).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Generic, TypeVar

import yaml

from duban_contracts.units import SPELLINGS_LONGEST_FIRST

from .numbers import NotANumber, parse_quantity, resolve_spelling
from .text import nfkc

BUNDLED_VOCABULARY = "phrases.yaml"

#: Weight of what a clerk typed that no entry has, relative to the rarest thing an entry has.
UNSEEN_CHARACTER_FACTOR = 2.0
#: Weight of a pair of characters no entry has, relative to the lighter of its two characters.
UNSEEN_PAIR_FACTOR = 0.25
#: The score is the share of the typed phrase that an entry's phrases explain (adding words is not
#: normal), scaled down by up to this much when no single phrase of the entry is close to what was typed
#: (shortening is normal, so this only tells apart entries that explain the phrase equally well).
CLOSENESS_WEIGHT = 0.2

K = TypeVar("K")

_DIGITS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_MAGNITUDE = frozenset("十百千万亿拾佰仟")
_UNITS = "|".join(re.escape(spelling) for spelling in ("个小时", *SPELLINGS_LONGEST_FIRST))
_FIGURE = re.compile(
    rf"(?P<ordinal>第[\d{_DIGITS}]+)"
    rf"|(?P<percent>百分之[\d{_DIGITS}点.]+)"
    r"|(?:大约|约为|约|近|逾|达到|达|共计|共|累计|突破|超过|不低于|不少于)?"
    rf"(?P<number>\d+(?:\.\d+)?|[{_DIGITS}][{_DIGITS}点]*)"
    rf"(?P<unit>(?:(?:余|多)(?=[百千万亿]*(?:{_UNITS})))?[百千万亿]*(?:{_UNITS})?)"
    r"(?:以上|左右|有余|余|以内|上下)?"
)
_UNIT_IN_BRACKETS = re.compile(rf"[(\[（【〔<《]\s*(?P<unit>{_UNITS})\s*[)\]）】〕>》]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DATES = re.compile(r"\d{4}\s*年度?|\d{1,2}\s*月份?(?:\s*\d{1,2}\s*[日号])?|\d{1,2}\s*[日号]")
_NOT_A_WORD = re.compile(r"[^a-z0-9\u3400-\u9fff]+")
_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]")
_PAIR = "\x1f"


@dataclass(frozen=True)
class Reading:
    """A phrase as the scorer sees it: its canonical words and the base units its figures or words name."""

    words: str
    units: frozenset[str]


class Vocabulary:
    """The words to drop, the synonyms to canonicalise and the words that name a unit (`phrases.yaml`)."""

    def __init__(self, drop: Iterable[str], synonyms: dict[str, list[str]], unit_words: dict[str, str]) -> None:
        self._drop = _alternation(drop)
        self._canonical = {variant: word for word, variants in synonyms.items() for variant in variants}
        self._synonyms = _alternation(self._canonical)
        self._unit_words = dict(unit_words)
        self._unit_word = _alternation(self._unit_words)

    @classmethod
    def bundled(cls) -> Vocabulary:
        return _bundled_vocabulary()

    def read(self, phrase: str) -> Reading:
        units: set[str] = set()

        def unit_named(spelling: str, replacement: str) -> str:
            resolved = resolve_spelling(spelling)
            if resolved and resolved[0]:
                units.add(resolved[0])
            return replacement

        text = _DATES.sub(" ", _THOUSANDS.sub("", nfkc(phrase).lower()))
        text = _UNIT_IN_BRACKETS.sub(lambda m: unit_named(m["unit"], " "), text)
        text = _FIGURE.sub(lambda m: _without_figure(m, units), text)
        words = _NOT_A_WORD.sub("", text)
        if self._drop:
            words = self._drop.sub("", words)
        if self._synonyms:
            words = self._synonyms.sub(lambda m: self._canonical[m[0]], words)
        if self._unit_word:
            words = self._unit_word.sub(lambda m: unit_named(self._unit_words[m[0]], ""), words)
        return Reading(words, frozenset(units))


@dataclass(frozen=True)
class Scored(Generic[K]):
    """An entry's score for a phrase, and whether the units the phrase names fit the entry."""

    key: K
    score: float
    fits: bool


@dataclass(frozen=True)
class _Entry(Generic[K]):
    key: K
    vocabulary: frozenset[str]  # every character and pair of all its phrases
    phrases: tuple[tuple[frozenset[str], float], ...]  # each phrase's grams and their weight
    units: frozenset[str]


class PhraseScorer(Generic[K]):
    """Scores phrases against entries; built once and used for every message.

    An entry is a key, the phrases it is known by, phrases that only lend it their units (a text it
    shares with other entries cannot tell them apart, but its figures still say what is counted) and its
    base unit.
    """

    def __init__(self, vocabulary: Vocabulary, entries: Sequence[tuple[K, Sequence[str], Sequence[str], str]]) -> None:
        self.vocabulary = vocabulary
        readings = [[vocabulary.read(phrase) for phrase in phrases] for _key, phrases, _more, _unit in entries]
        grams = [[_grams(reading.words) for reading in read if reading.words] for read in readings]
        self._weights = _inverse_document_frequency(grams)
        self._unseen = UNSEEN_CHARACTER_FACTOR * max(self._weights.values(), default=1.0)
        self._entries: list[_Entry[K]] = []
        for (key, _phrases, unit_phrases, unit), read, phrase_grams in zip(entries, readings, grams, strict=True):
            named = [*read, *(vocabulary.read(phrase) for phrase in unit_phrases)]
            units = frozenset({unit}).union(*(reading.units for reading in named))
            every = frozenset[str]().union(*phrase_grams)
            phrases = tuple((g, self._sum(g)) for g in phrase_grams)
            self._entries.append(_Entry(key, every, phrases, units))

    def read(self, phrase: str) -> Reading:
        return self.vocabulary.read(phrase)

    def rank(self, reading: Reading) -> list[Scored[K]]:
        """The entries that share anything with the reading, best first (ties keep the entries' order)."""
        typed = _grams(reading.words)
        typed_sum = self._typed_sum(typed)
        if typed_sum == 0:
            return []
        ranked = []
        for entry in self._entries:
            explained = self._sum(typed & entry.vocabulary) / typed_sum
            if explained == 0:
                continue
            closest = max(self._agreement(typed, typed_sum, phrase, total) for phrase, total in entry.phrases)
            score = explained * (1 - CLOSENESS_WEIGHT + CLOSENESS_WEIGHT * closest)
            ranked.append(Scored(entry.key, score, reading.units <= entry.units))
        ranked.sort(key=lambda scored: -scored.score)
        return ranked

    def _agreement(self, typed: frozenset[str], typed_sum: float, phrase: frozenset[str], phrase_sum: float) -> float:
        """How closely the typed phrase and one of the entry's phrases agree: the harmonic mean of the share
        of each that the other has (1 when they are the same words)."""
        shared = self._sum(typed & phrase)
        return 2 * shared / (typed_sum + phrase_sum)

    def _sum(self, grams: frozenset[str]) -> float:
        return sum(self._weights[gram] for gram in grams)

    def _typed_sum(self, grams: frozenset[str]) -> float:
        # A pair of characters no entry has is the seam of swapped words (校舍新建): it neither helps nor
        # hurts. A character no entry has is something the plan does not speak of (宿舍, 绿化): it hurts.
        return sum(self._weights.get(gram, self._unseen_weight(gram)) for gram in grams)

    def _unseen_weight(self, gram: str) -> float:
        if _PAIR not in gram:
            return self._unseen
        first, second = gram.split(_PAIR)
        return UNSEEN_PAIR_FACTOR * min(self._weights.get(first, self._unseen), self._weights.get(second, self._unseen))


@cache
def _bundled_vocabulary() -> Vocabulary:
    text = resources.files(__package__).joinpath(BUNDLED_VOCABULARY).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return Vocabulary(data.get("drop", []), data.get("synonyms", {}), data.get("unit_words", {}))


def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({nfkc(word).lower() for word in words if word}, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in ordered)) if ordered else None


def _without_figure(match: re.Match[str], units: set[str]) -> str:
    """The text with a figure taken out (its base unit noted); ordinals and numerals inside words stay."""
    if match["ordinal"]:
        return match[0]
    number, unit = (match["percent"], "") if match["percent"] else (match["number"], match["unit"])
    if not number[0].isdigit() and not unit and not (len(number) > 1 and _MAGNITUDE & set(number)):
        return match[0]  # 五好, 一本, 百城: numerals inside words, not figures
    quantity = parse_quantity(number + unit)
    if isinstance(quantity, NotANumber):
        return match[0]
    resolved = resolve_spelling(quantity.spelling) if quantity.spelling else None
    if resolved and resolved[0]:
        units.add(resolved[0])
    return " "


def _grams(words: str) -> frozenset[str]:
    """The characters (an ASCII word counts as one) and the pairs of neighbouring characters."""
    tokens = _TOKEN.findall(words)
    return frozenset(tokens) | frozenset(a + _PAIR + b for a, b in pairwise(tokens))


def _inverse_document_frequency(documents: Sequence[Sequence[frozenset[str]]]) -> dict[str, float]:
    frequency: dict[str, int] = {}
    for document in documents:
        for gram in frozenset().union(*document):
            frequency[gram] = frequency.get(gram, 0) + 1
    count = len(documents)
    return {gram: math.log((count + 1) / (n + 1)) + 1 for gram, n in frequency.items()}
