"""Personal data never leaves ingest: every free text is masked before it goes into an event, a
rejection or a log line.

What is found, and what it becomes:

=====================================  =============================================================
personal data                          masked as
=====================================  =============================================================
居民身份证号, 18 digits (GB 11643 check   `〔身份证号〕`
digit, X), or the old 15-digit form;
written with spaces or dashes between
groups, or in full-width digits
mobile number (+86 / 0086, spaces,      `〔手机号〕`
dashes, full-width digits)
landline (area code with or without     `〔电话〕` (an extension after it is kept: it names a desk,
brackets; a bare 7–8 digit number after  not a person)
电话/座机/联系方式 …)
bank card number after 账号/卡号          `〔银行卡号〕`
a person's name                         `张某〔3F9C〕`: the surname, 某 (as Chinese official documents
                                        write it), and a code of four hex digits, the start of an
                                        HMAC-SHA256 of the name under the deployment's secret. The
                                        same pupil gets the same code in every submission, so cases
                                        can be linked; without the secret the code tells nothing.
=====================================  =============================================================

Without a secret (`PersonalDataMask(None)`, `mask_personal_data`) a name becomes `张某`: that is how
rejections quote a value back (they need no linking).

Names are recognised in context, by rules; a name standing alone with nothing around it that says
"person" cannot be told from an ordinary word and may be missed, so integrations are still asked not
to send names (the contract says so) and this is the safety net. A name is taken:

- after a role word: 学生, 幼儿, 患儿, 家长, 班主任, 校长, 驾驶员, 其父 … (`学生王小红`), and as
  strongly after a label with a colon (`姓名：`, `联系人：`, `报告人：`, `伤者名单：` …);
- after a class: `七年级3班王小红`, `高二（4）班…`, `大一班…`;
- before a bracketed sex or age, or `，男，12岁`: `张小明（男，12岁）`;
- before 同学 / 老师 / 校长 / 家长 / 的母亲 / 二人 / 兄弟 / 等5名 …: `王小明同学`;
- in a list with a name already found, joined by 、 和 与 及: `王小红、李强受伤`; and two names
  joined by 和/与/、 opening a clause, followed by 在/被/因/均 … (`张伟和李娜在午休时…`);
- standing alone, in a text that speaks of people (a role word, a class or a name in context is
  in it), when it has a surname and a two-character given name of common given-name characters and
  is not an ordinary word (`推搡程一诺致其`);
- everywhere else in the same text once found, and so is its given name alone (`晓明的同伴`).

Place, school and section names are left alone: a candidate ending in a place character (王家坝,
张家港, 李家湾) or followed by one (村, 镇, 小学, 纪念馆, 股 …), or that is an everyday word
beginning with a surname character (安全, 周末, 高一, 雷雨 …), is not a name. The words the rules
read (surnames, given-name characters, roles, everyday words …) are in `privacy_lexicon.yaml`.

Measured on the corpus of tests/ingest/data/privacy_corpus.yaml (208 texts, split dev/test before
tuning): no personal span left on either half, every non-personal span kept; see the test for the bars.

A segmenter (jieba's `nr` tags) was measured and not used: it loads in 2.2 s and takes 220 MB per
process, misses names the rules find (何建国, 马欣怡, 黄梓萱) and tags places as names (王家坝,
李白, 白庙乡, 光辉).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import yaml

from .text import ECHO_CHARS, echo

Kind = Literal["name", "id_card", "mobile", "landline", "bank_card"]

LABELS: dict[Kind, str] = {
    "id_card": "〔身份证号〕",
    "mobile": "〔手机号〕",
    "landline": "〔电话〕",
    "bank_card": "〔银行卡号〕",
}
#: Characters of a name's code; `张某〔3F9C〕`.
CODE_CHARS = 4

# --- the lexicon (privacy_lexicon.yaml) -------------------------------------------------------


def _lexicon() -> dict[str, str]:
    text = resources.files(__package__).joinpath("privacy_lexicon.yaml").read_text(encoding="utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    return data


_LEXICON = _lexicon()


def _chars(key: str) -> frozenset[str]:
    return frozenset(_LEXICON[key].replace(" ", ""))


def _words(key: str) -> tuple[str, ...]:
    return tuple(_LEXICON[key].split())


_SURNAMES = _chars("surnames")
_COMPOUND_SURNAMES = frozenset(_words("compound_surnames"))
_FUNCTION_SURNAMES = _chars("function_surnames")
_GIVEN_NAME_CHARS = _chars("given_name_chars")
_NEVER_GIVEN = _chars("never_given") | frozenset("、，。,.;；:：!！?？（）()《》“”\"' \u3000")
_PLACE_ENDINGS = _chars("place_endings")
_PLACE_AFTER = _words("place_after")
_AFTER_NAME = _words("after_name")
_TITLES = (*_AFTER_NAME, *_words("titles"))
_COMMON_WORDS = frozenset(_words("common_words"))
_ROLES = _words("roles")

_ROLE_PATTERN = "|".join(sorted(set(_ROLES), key=len, reverse=True))
_ENDS_ROLE = re.compile(rf"(?:{_ROLE_PATTERN})$")
_LONGEST_ROLE = max(map(len, _ROLES))
#: A role word, then (optionally) 为/是, a colon, a space or an opening bracket, then the name.
_AFTER_ROLE = re.compile(rf"(?P<role>{_ROLE_PATTERN})(?P<sep>(?:[为是])?\s*(?P<colon>[:：])?\s*[（(]?)")
#: Any short label ending in a colon: 报告人：, 伤者名单：, 姓名： …
_LABEL = re.compile(
    r"[\u4e00-\u9fff]{0,4}(?:人|员|者|名单|姓名|名字|对象|病例|患儿|学生|幼儿|教师|家长|班主任)\s*[:：]\s*"
)
#: A role ending in 人/员/者, then 为/是: 对方球员为司徒浩, 报警人是…
_ROLE_IS = re.compile(r"[\u4e00-\u9fff](?:人|员|者)(?:为|是)")
_CLASS = re.compile(
    r"(?:[一二三四五六七八九]年级|[初高][一二三]|[七八九]年级|[七八九])"
    r"\s*[（(]?\s*[0-9０-９一二三四五六七八九十]{1,2}\s*[)）]?\s*班"
    r"|[大中小][一二三四五六七八九]?班"
)
_SEX_AGE = re.compile(
    r"[（(]\s*(?:男|女|父|母|[0-9０-９]{1,3}\s*岁)"
    r"(?:\s*[,，、]\s*[0-9０-９一二三四五六七八九十]{1,3}\s*(?:岁|周岁))?\s*[)）]"
    r"|[,，]\s*[男女]\s*[,，]\s*(?:[0-9０-９]{1,3}|[一二三四五六七八九十]{1,3})\s*(?:岁|周岁)"
)
_BEFORE_ROLE = re.compile(
    r"(?:的)?(?:同学|老师|校长|家长|母亲|父亲|妈妈|爸爸|兄弟|姐妹|兄妹|姐弟|二人|两人|三人|四人|律师|医生|同志|双胞胎)"
    r"(?!会|学校|委员|群|们|节|资格|培训|代表)"
    r"|等\s*[0-9０-９一二三四五六七八九十]*\s*[名人位个]"
)
_LIST_JOINERS = ("以及", "、", "和", "与", "及")
_PAIR_FOLLOWERS = frozenset("在被因均都已一等正")
#: What follows an item of a list of names.
_ITEM_ENDINGS = frozenset("、，,；;。")
_ROLE_LIKE_BEFORE_ROLE = frozenset(
    ("全体", "全班", "全校", "任课", "代课", "各位", "广大", "本班", "该班", "其他", "相关", "班主", "全年", "全区")
)

#: How sure the context is that a name follows: a label with a colon or a bracketed sex/age is
#: `strong`; a class before it `class`; a role word or a list `role`; nothing at all `weak`.
Strength = Literal["strong", "class", "role", "weak"]


@dataclass(frozen=True)
class Finding:
    """A piece of personal data in a text: `text[start:end]`."""

    start: int
    end: int
    kind: Kind
    surname: str = ""


# --- numbers ----------------------------------------------------------------------------------

_DIGIT = "0-9０-９"
_SEP = r"[ \u3000\-－‐‑–—]"
_NUMBER_RUN = re.compile(
    rf"(?:[（(]\s*[0０][{_DIGIT}]{{2,3}}\s*[)）]\s*)?[{_DIGIT}](?:{_SEP}?[{_DIGIT}])*(?:{_SEP}?[XxＸｘ](?![A-Za-z]))?"
)
_GROUP = re.compile(rf"[{_DIGIT}XxＸｘ]+")
_ID_WORDS = re.compile(r"身份证|证件|证号|身份号码|公民身份|学籍号")
_PHONE_WORDS = re.compile(r"电话|座机|固话|手机|联系方式|热线|tel|Tel|TEL|来电|号码")
_CARD_WORDS = re.compile(r"账号|卡号|银行卡|账户|帐号")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
#: The province codes an identity number begins with (GB/T 2260), by region: 11–15 north, 21–23
#: north-east, 31–37 east, 41–46 centre and south, 50–54 south-west, 61–65 north-west, 71, 81–82.
_PROVINCES = frozenset(
    str(code)
    for first, last in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 82))
    for code in range(first, last + 1)
)


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of an 18-digit 公民身份号码."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2099


def _is_id_card(digits: str, id_context: bool) -> bool:
    if len(digits) == 18 and digits[:17].isdigit():
        if id_check_digit(digits[:17]) == digits[17]:
            return True
        birth = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
        return id_context and _valid_date(*birth)
    if len(digits) == 15 and digits.isdigit() and digits[:2] in _PROVINCES:
        return _valid_date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    return False


def _is_mobile(digits: str) -> bool:
    for prefix in ("0086", "86", ""):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789":
            return rest.isdigit()
    return False


def _is_landline(digits: str, phone_context: bool) -> bool:
    if not digits.isdigit():
        return False
    if digits.startswith("0"):
        area = 3 if digits.startswith(("010", "02")) else 4
        local = digits[area:]
        return 7 <= len(local) <= 8 and local[0] not in "01"
    return phone_context and 7 <= len(digits) <= 8 and digits[0] not in "01"


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _number_kind(digits: str, before: str) -> Kind | None:
    if _is_id_card(digits, bool(_ID_WORDS.search(before))):
        return "id_card"
    if _is_mobile(digits):
        return "mobile"
    if _is_landline(digits, bool(_PHONE_WORDS.search(before))):
        return "landline"
    if 16 <= len(digits) <= 19 and digits.isdigit() and _luhn(digits) and _CARD_WORDS.search(before):
        return "bank_card"
    return None


def _find_numbers(text: str) -> list[Finding]:
    """ID, phone and card numbers. A run of digits with single spaces or dashes between them may hold
    several numbers (`2023 13812345678`), so spans of consecutive groups are tried, longest first —
    only those of at most `_MAX_DIGITS` digits, so that a hostile run of `1 1 1 …` costs linear time."""
    found: list[Finding] = []
    for run in _NUMBER_RUN.finditer(text):
        groups = [(g.start() + run.start(), g.end() + run.start()) for g in _GROUP.finditer(run[0])]
        first = 0
        while first < len(groups):
            last = _last_group_within(groups, first)
            while last > first:
                start, end = groups[first][0], groups[last - 1][1]
                kind = (
                    _number_kind(_plain_digits(text[start:end]), text[max(0, start - 12) : start])
                    if last - first == 1 or all(b - a >= 2 for a, b in groups[first:last])
                    else None  # numbers are grouped in twos and more, never 1 3 8 …
                )
                if kind is not None:
                    found.append(Finding(run.start() if first == 0 else start, end, kind))
                    break  # (a bracketed area code, before the first group, belongs to the number)
                last -= 1
            first = last if last > first else first + 1
    return found


#: The most digits any number masked here has (a bank card: 19).
_MAX_DIGITS = 19


def _last_group_within(groups: list[tuple[int, int]], first: int) -> int:
    """One past the last group that keeps the span from `first` within `_MAX_DIGITS` characters."""
    total, last = 0, first
    while last < len(groups) and total + (groups[last][1] - groups[last][0]) <= _MAX_DIGITS:
        total += groups[last][1] - groups[last][0]
        last += 1
    return max(last, first + 1)


def _plain_digits(written: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", written) if c.isalnum()).upper()


# --- names ------------------------------------------------------------------------------------


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _surname_at(text: str, i: int) -> str:
    if text[i : i + 2] in _COMPOUND_SURNAMES:
        return text[i : i + 2]
    return text[i] if i < len(text) and text[i] in _SURNAMES else ""


def _given_ok(char: str) -> bool:
    return _is_cjk(char) and char not in _NEVER_GIVEN and char != "某"


def _followed_by_place(text: str, end: int) -> bool:
    return text.startswith(_PLACE_AFTER, end)


def _plausible(text: str, start: int, end: int, surname: str, strength: Strength) -> bool:
    """Whether `text[start:end]` (surname + given name) can be a person's name here."""
    name = text[start:end]
    given = name[len(surname) :].lstrip(" \u3000")
    if not given or not all(_given_ok(c) for c in given):
        return False
    if name[-1] in _PLACE_ENDINGS or _followed_by_place(text, end):
        return False
    if strength == "strong":
        return True
    name_like = len(given) == 2 and all(c in _GIVEN_NAME_CHARS for c in given)
    if strength != "weak" and name_like and text[end : end + 1] in _ITEM_ENDINGS:
        return True  # 学生房子涵、… 高一鸣、高一诺: a list item after a role reads as a name even if a word starts it
    head = name[: len(surname) + 1]
    if head in _COMMON_WORDS or name in _COMMON_WORDS or given in _COMMON_WORDS or _continues_word(text, start):
        return False
    if surname in _FUNCTION_SURNAMES and strength != "class":
        return name_like and strength == "role"  # 教师向明远, but not 家长向学校反映
    return strength != "weak" or name_like


def _continues_word(text: str, start: int) -> bool:
    """Whether the surname character ends an ordinary word instead (分管副校长, 明年将)."""
    return start > 0 and text[start - 1 : start + 1] in _COMMON_WORDS


def _name_from(text: str, i: int, strength: Strength) -> Finding | None:
    """The name beginning at `i`, if one does: the surname and a given name of one or two characters
    (after a role word, a space between them is allowed: forms pad two-character names, 赵　刚)."""
    if i >= len(text):
        return None
    surname = _surname_at(text, i)
    if not surname:
        return None
    g1 = i + len(surname)
    if strength != "weak":
        g1 = _past_padding(text, g1)
    if g1 >= len(text) or not _given_ok(text[g1]) or text.startswith(_TITLES, g1):
        return None  # 邵先生, 杨老师, 方家长: a surname and a title, or no name at all
    two = g1 + 1 < len(text) and _given_ok(text[g1 + 1]) and not text.startswith(_AFTER_NAME, g1 + 1)
    if two and (_followed_by_place(text, g1 + 1) or text[g1 + 1 : g1 + 3] in _COMMON_WORDS):
        two = False  # 时新小学, 欧阳修文化: the second character starts the next word
    end = g1 + 2 if two else g1 + 1
    return Finding(i, end, "name", surname) if _plausible(text, i, end, surname, strength) else None


def _past_padding(text: str, at: int) -> int:
    end = at
    while end < len(text) and end - at < 3 and text[end] in " \u3000":
        end += 1
    return end if end < len(text) and _is_cjk(text[end]) else at


def _ends_role(text: str, i: int) -> bool:
    """Whether the character at `i` is the last of a role word (班主任王老师: 任 is not a surname here)."""
    return _ENDS_ROLE.search(text, max(0, i + 1 - _LONGEST_ROLE), i + 1) is not None


def _name_ending(text: str, end: int, strength: Strength) -> Finding | None:
    """The name that ends at `end` (just before 同学, （男，12岁）, 、 …), reading backwards."""
    options: list[int] = []
    for length in (4, 3, 2):
        start = end - length
        if start < 0:
            continue
        surname = _surname_at(text, start)
        if not surname or len(text[start + len(surname) : end]) not in (1, 2):
            continue
        if length == 3 and len(surname) == 1 and text[start + 1] in _SURNAMES and text[start] in "和于向与及的":
            continue  # 和李明同学 is 李明
        if _ends_role(text, start):
            continue  # 教师李明（男）is 李明
        options.append(start)
    for start in options:
        surname = _surname_at(text, start)
        if start > 0 and len(surname) == 1 and text[start - 1 : start + 1] in _COMPOUND_SURNAMES:
            continue
        if _plausible(text, start, end, surname, strength):
            return Finding(start, end, "name", surname)
    return None


def _names_in_context(text: str) -> list[Finding]:
    found: list[Finding] = []
    readings: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Finding | None]]] = [
        (_AFTER_ROLE, lambda m: _name_from(text, m.end(), "strong" if m["colon"] else "role")),
        (_LABEL, lambda m: _name_from(text, m.end(), "strong")),
        (_ROLE_IS, lambda m: _name_from(text, m.end(), "role")),
        (_CLASS, lambda m: _name_from(text, _past_separator(text, m.end()), "class")),
        (_SEX_AGE, lambda m: _name_ending(text, m.start(), "strong")),
        (_BEFORE_ROLE, lambda m: _name_before_role(text, m)),
    ]
    context = False
    for pattern, reading in readings:
        for match in pattern.finditer(text):
            context = context or pattern is not _BEFORE_ROLE
            name = reading(match)
            if name:
                found.append(name)
    if not (context or found):
        return found  # a text that speaks of nobody is not read for names standing alone
    return found + [w for w in _standalone_names(text) if not any(_overlaps(w, f) for f in found)]


def _name_before_role(text: str, match: re.Match[str]) -> Finding | None:
    if _name_from(text, match.end(), "role") or _masked_name_at(text, match.end()):
        return None  # 搭载同学郭子航 (or 郭某): the role word introduces the name after it
    name = _name_ending(text, match.start(), "role")
    return None if name is None or text[name.start : name.end] in _ROLE_LIKE_BEFORE_ROLE else name


def _masked_name_at(text: str, i: int) -> bool:
    """Whether a name masked already (郭某, 郭某〔5066〕) begins at `i`."""
    surname = _surname_at(text, i) if i < len(text) else ""
    return bool(surname) and text.startswith("某", i + len(surname))


def _past_separator(text: str, at: int) -> int:
    """Past a colon or spaces after a class name (六年级3班：颜书瑶、…)."""
    while at < len(text) and text[at] in ":： \u3000":
        at += 1
    return at


def _standalone_names(text: str) -> list[Finding]:
    """Names with nothing around them that says "person" (a `weak` reading)."""
    found: list[Finding] = []
    for i, char in enumerate(text):
        if char in _SURNAMES and not _ends_role(text, i):  # 班主任夏海燕: 任 ends the role word
            name = _name_from(text, i, "weak")
            if name:
                found.append(name)
    return found


#: Where a clause starts: the text's start, or after punctuation.
_CLAUSE_START = re.compile(r"(?:^|(?<=[，。；：！？,;:!?\s]))(?=[\u4e00-\u9fff])")


def _opening_names(text: str) -> list[Finding]:
    """Names that open a clause and are followed by what a person does: one with a two-character
    given name of given-name characters (王小红在河边…), or two joined by 和/与/、 (张伟和李娜在午休时…)."""
    found: list[Finding] = []
    for clause in _CLAUSE_START.finditer(text):
        alone = _name_from(text, clause.end(), "weak")
        if alone is not None and _acts(text, alone.end):
            found.append(alone)
        first = _name_from(text, clause.end(), "role")
        if first is None:
            continue
        joiner = next((j for j in _LIST_JOINERS if text.startswith(j, first.end)), None)
        second = _name_from(text, first.end + len(joiner), "role") if joiner else None
        if second is not None and text[second.end : second.end + 1] in _PAIR_FOLLOWERS:
            found.extend((first, second))
    return found


def _acts(text: str, at: int) -> bool:
    return text[at : at + 1] in _PAIR_FOLLOWERS or text.startswith(_AFTER_NAME, at)


def _extend_lists(text: str, names: list[Finding]) -> list[Finding]:
    """Names joined to a found name by 、 和 与 及 are names too (王小红、李强受伤)."""
    result = {(n.start, n.end): n for n in names}
    todo = list(names)
    while todo:
        name = todo.pop()
        for joiner in _LIST_JOINERS:
            if text.startswith(joiner, name.end):
                after = _name_from(text, name.end + len(joiner), "role")
                if after and (after.start, after.end) not in result:
                    result[(after.start, after.end)] = after
                    todo.append(after)
            if name.start >= len(joiner) and text.startswith(joiner, name.start - len(joiner)):
                before = _name_ending(text, name.start - len(joiner), "role")
                if before and (before.start, before.end) not in result:
                    result[(before.start, before.end)] = before
                    todo.append(before)
    return list(result.values())


def _everywhere(text: str, names: Iterable[Finding]) -> list[Finding]:
    """Every other mention of a found name, and of its two-character given name on its own."""
    found: list[Finding] = []
    for name in {text[n.start : n.end]: n for n in names}.values():
        full = text[name.start : name.end]
        given = full[len(name.surname) :].lstrip(" \u3000")
        found.extend(Finding(m.start(), m.end(), "name", name.surname) for m in re.finditer(re.escape(full), text))
        if len(given) == 2 and given not in _COMMON_WORDS:
            for m in re.finditer(re.escape(given), text):
                found.append(Finding(m.start(), m.end(), "name", name.surname))
    return found


def find_personal_data(text: str) -> list[Finding]:
    """Every piece of personal data in `text`, in order, none overlapping."""
    numbers = _find_numbers(text)
    classes = [Finding(m.start(), m.end(), "name") for m in _CLASS.finditer(text)]
    names = _extend_lists(text, [*_names_in_context(text), *_opening_names(text)])
    names = [n for n in names if not any(_overlaps(n, other) for other in (*numbers, *classes))]
    return _without_overlaps([*numbers, *_everywhere(text, names)])


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.start < b.end and b.start < a.end


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


# --- masking ----------------------------------------------------------------------------------


def normalised_name(name: str) -> str:
    """The form a name is keyed by: NFKC, no spaces or middle dots."""
    return re.sub(r"[\s·•]", "", unicodedata.normalize("NFKC", name))


class PersonalDataMask:
    """Masks personal data in text; names become `张某〔3F9C〕` under `secret`, `张某` without one."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret

    def pseudonym(self, name: str, surname: str) -> str:
        if self._secret is None:
            return f"{surname}某"
        digest = hmac.new(self._secret, normalised_name(name).encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{surname}某〔{digest[:CODE_CHARS].upper()}〕"

    def __call__(self, text: str) -> str:
        findings = find_personal_data(text)
        if not findings:
            return text
        names = _full_names(text, findings)
        pieces: list[str] = []
        at = 0
        for finding in findings:
            pieces.append(text[at : finding.start])
            if finding.kind == "name":
                pieces.append(self.pseudonym(names.get(text[finding.start : finding.end], ""), finding.surname))
            else:
                pieces.append(LABELS[finding.kind])
            at = finding.end
        pieces.append(text[at:])
        return "".join(pieces)


def _full_names(text: str, findings: list[Finding]) -> dict[str, str]:
    """Each mention (a full name, or a given name alone) → the full name it stands for."""
    full: dict[str, str] = {}
    for finding in findings:
        written = text[finding.start : finding.end]
        if finding.kind == "name" and written.startswith(finding.surname):
            full.setdefault(written, written)
            full.setdefault(written[len(finding.surname) :].lstrip(" \u3000"), written)
    return full


#: Masks without a secret: names become `张某`.
KEYLESS = PersonalDataMask(None)


def mask_personal_data(text: str) -> str:
    """`text` with ID, phone and card numbers and names masked, names as `张某` (no code)."""
    return KEYLESS(text)


#: Characters read past the echo limit before masking, so that a number or a name cut by the limit is
#: still recognised (and masked) whole.
_ECHO_MARGIN = 64


def masked_echo(value: object, limit: int = ECHO_CHARS) -> str | None:
    """How an offending value is quoted back in a rejection: masked, then cut to `limit` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        shown = echo(value)
        return None if shown is None else mask_personal_data(shown)
    masked = mask_personal_data(value[: limit + _ECHO_MARGIN])
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


def mask_structure(value: object, mask: Callable[[str], str] = mask_personal_data) -> object:
    """A decoded JSON value with every string (and number that reads as an ID or phone) masked.

    A string is masked together with its key, so that `{"姓名": "王小红"}` is read as a label and a name.
    """
    if isinstance(value, dict):
        return {key: _masked_item(str(key), item, mask) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_structure(item, mask) for item in value]
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask(str(value))
        return value if masked == str(value) else masked
    return value


def _masked_item(key: str, item: object, mask: Callable[[str], str]) -> object:
    if isinstance(item, str):
        label = f"{key}："
        masked = mask(label + item)
        return masked[len(label) :] if masked.startswith(label) else mask(item)
    return mask_structure(item, mask)
