"""Other bureaus' real plan texts (tests/tasks/plan_corpus/), imported and scored against hand-checked
gold readings; the scorer itself; and `duban plan import FILE --score GOLD.yaml`.

The corpus is split once into dev/ (rules may be tuned on it) and test/ (only ever scored). The
floors below are the importer's scores when the corpus was built: they record the baseline so that
no change can lower it; the rules step raises them. XLSX task tables are not read yet: they score 0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from duban_contracts.plan import Comparator, TargetKind
from duban_tasks.domain.plan_import import (
    Gold,
    GoldError,
    Score,
    ScoredTarget,
    combined,
    import_plan,
    load_gold,
    score,
    score_plan,
)
from duban_tasks.entrypoints.cli import plan_app

from .plan_corpus.build_tables import table_text

CORPUS = Path(__file__).parent / "plan_corpus"
HALVES = ("dev", "test")
TEXTS = sorted([*CORPUS.glob("*/*.txt"), *CORPUS.glob("*/*.xlsx")])

#: (precision, recall) of each text when the corpus was built; a text may not fall below them.
FLOORS: dict[str, tuple[float, float]] = {
    "anhui_jiaoyuting_2024_yaodian": (1.0, 1.0),
    "guangdong_jiaoyu_2023_shishi": (0.0, 0.0),
    "guangxi_tiyu_2022_shishi": (0.956, 0.956),
    "haimen_jiaoti_2020_shishi": (1.0, 0.666),
    "linqing_keji_2024_jihua": (0.6, 1.0),
    "linxiang_jiaoti_2020_shishi": (0.0, 0.0),
    "qiaocheng_jiaoyu_2025_fenjie": (0.0, 0.0),
    "shanghai_tiyu_2023_shishi": (0.0, 0.0),
    "zhonglou_minsheng_2021_fenjie": (0.0, 0.0),
    "chongming_tiyu_2024_yaodian": (1.0, 0.6),
    "haizhou_jiaoyu_2025_shishi": (1.0, 0.777),
    "nanling_jiaoyu_2024_fenjie": (0.0, 0.0),
    "shiji_keji_2022_jihua": (1.0, 1.0),
    "shunde_minsheng_2024_shishi": (1.0, 0.857),
    "suzhou_jiaoyu_2023_yaodian": (0.0, 1.0),
    "tengzhou_keji_2024_jihua": (0.75, 1.0),
    "wuhu_jiaoyu_2024_yaodian": (0.0, 1.0),
    "zhaoyuan_jiaoti_2022_minsheng": (0.0, 0.0),
}
#: (precision, recall) of each half, micro-averaged over its targets.
HALF_FLOORS: dict[str, tuple[float, float]] = {
    "dev": (0.906, 0.414),
    "test": (0.909, 0.681),
}


@dataclass(frozen=True)
class Scored:
    name: str
    half: str
    score: Score
    year: int | None  # the year the importer read; None when it read nothing
    note: str = ""


def _gold(text_file: Path) -> Gold:
    path = _gold_file(text_file)
    return load_gold(path.read_text(encoding="utf-8"), source=path.name)


def _gold_file(text_file: Path) -> Path:
    return text_file.with_name(f"{text_file.stem}.gold.yaml")


def _quotable(text_file: Path) -> str:
    return table_text(text_file) if text_file.suffix == ".xlsx" else text_file.read_text(encoding="utf-8")


@cache
def _scored(text_file: Path) -> Scored:
    gold = _gold(text_file)
    half = text_file.parent.name
    if text_file.suffix == ".xlsx":
        return Scored(text_file.stem, half, score([], gold.targets), None, "XLSX not read: scored 0")
    text = text_file.read_text(encoding="utf-8")
    try:
        plan = import_plan(text).plan
        note = ""
    except ValueError:
        # The text names no year: a person passes --year, as here with the gold year.
        plan = import_plan(text, year=gold.year).plan
        note = "no year in the text: --year given"
    return Scored(text_file.stem, half, score_plan(plan, gold), plan.year, note)


def _row(label: str, result: Score, extra: str = "") -> str:
    return (
        f"{label:<34} {result.precision:>6.3f} {result.recall:>6.3f} {result.kind_agreement:>6.3f} "
        f"{len(result.matched):>4} {result.found:>5} {result.expected:>5}  {extra}"
    )


def _table() -> str:
    header = f"{'text':<34} {'prec':>6} {'recall':>6} {'kind':>6} {'hit':>4} {'found':>5} {'gold':>5}"
    lines = [header]
    for half in HALVES:
        scored = [_scored(t) for t in TEXTS if t.parent.name == half]
        lines += [_row(f"{half}/{s.name}", s.score, s.note) for s in scored]
        lines.append(_row(f"== {half} (micro)", combined(s.score for s in scored)))
    return "\n".join(lines)


# --- the corpus ------------------------------------------------------------------------------------


def test_every_text_has_a_gold_reading_and_the_halves_are_even() -> None:
    golds = sorted(CORPUS.glob("*/*.gold.yaml"))
    assert [g.name.removesuffix(".gold.yaml") for g in golds] == [t.stem for t in TEXTS]
    assert {t.parent.name for t in TEXTS} == set(HALVES)
    sizes = [sum(t.parent.name == half for t in TEXTS) for half in HALVES]
    assert len(TEXTS) >= 16
    assert abs(sizes[0] - sizes[1]) <= 1


def test_the_split_in_the_readme_is_the_split_on_disk() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| (dev|test) \| `([a-z0-9_]+\.(?:txt|xlsx))`", readme, flags=re.MULTILINE))
    assert listed == {(t.parent.name, t.name) for t in TEXTS}


@pytest.mark.parametrize("text_file", TEXTS, ids=[t.stem for t in TEXTS])
def test_gold_readings_are_well_formed_and_quote_their_texts(text_file: Path) -> None:
    gold = _gold(text_file)
    text = _quotable(text_file)
    for target in gold.targets:
        assert target.phrase in text, target.phrase
        if target.unit == "ratio":
            assert -1 <= target.value <= 1, target.phrase


@pytest.mark.parametrize("text_file", TEXTS, ids=[t.stem for t in TEXTS])
def test_each_text_scores_at_least_its_recorded_floor(text_file: Path) -> None:
    scored = _scored(text_file)
    print(f"\n[plan corpus] {scored.half}/{scored.name}: {scored.score.summary()} {scored.note}")
    for label, targets in (("missed", scored.score.missed), ("spurious", scored.score.spurious)):
        for target in targets:
            print(f"  {label:<8} {target.line()}")
    if scored.year is not None:
        assert scored.year == _gold(text_file).year
    precision, recall = FLOORS[scored.name]
    assert scored.score.precision >= precision
    assert scored.score.recall >= recall


@pytest.mark.parametrize("half", HALVES)
def test_each_half_scores_at_least_its_recorded_floor(half: str) -> None:
    print("\n" + _table())
    result = combined(_scored(t).score for t in TEXTS if t.parent.name == half)
    precision, recall = HALF_FLOORS[half]
    assert result.precision >= precision
    assert result.recall >= recall


# --- the scorer ------------------------------------------------------------------------------------


def _target(task: int, value: float, unit: str = "个", kind: TargetKind = TargetKind.CUMULATIVE_COUNT) -> ScoredTarget:
    return ScoredTarget(task, value, unit, Comparator.GE, kind)


def test_values_match_within_a_relative_tolerance_of_one_in_a_million() -> None:
    gold = [_target(1, 30300), _target(1, 0.83, "ratio")]
    assert len(score([_target(1, 30300.02), _target(1, 0.8300005, "ratio")], gold).matched) == 2
    assert score([_target(1, 30301), _target(1, 0.831, "ratio")], gold).recall == 0


def test_task_unit_and_comparator_must_agree() -> None:
    gold = [_target(1, 8, "片")]
    le = ScoredTarget(1, 8, "片", Comparator.LE, TargetKind.CUMULATIVE_COUNT)
    result = score([_target(2, 8, "片"), _target(1, 8, "个"), le], gold)
    assert (len(result.matched), len(result.spurious), result.precision, result.recall) == (0, 3, 0.0, 0.0)


def test_kind_is_measured_beside_the_match() -> None:
    gold = [_target(1, 0.98, "ratio", TargetKind.RATIO), _target(1, 1, "ratio", TargetKind.COVERAGE)]
    found = [_target(1, 0.98, "ratio", TargetKind.COVERAGE), _target(1, 1, "ratio", TargetKind.COVERAGE)]
    result = score(found, gold)
    assert (result.precision, result.recall, result.kind_agreement) == (1.0, 1.0, 0.5)
    assert [gold.phrase for _, gold in result.kind_mismatches] == [""]


def test_a_repeated_target_needs_to_be_found_as_often_as_promised() -> None:
    gold = [_target(1, 80, "张"), _target(1, 80, "张")]  # 各80张 for two years
    result = score([_target(1, 80, "张")], gold)
    assert (result.precision, result.recall) == (1.0, 0.5)


def test_nothing_found_scores_zero_unless_nothing_was_promised() -> None:
    assert (score([], [_target(1, 3)]).precision, score([], [_target(1, 3)]).recall) == (0.0, 0.0)
    assert (score([], []).precision, score([], []).recall) == (1.0, 1.0)


def test_halves_are_scored_over_their_targets_not_their_texts() -> None:
    one_of_one = score([_target(1, 3)], [_target(1, 3)])
    none_of_three = score([], [_target(1, 1), _target(1, 2), _target(1, 4)])
    assert combined([one_of_one, none_of_three]).recall == 0.25


GOOD_GOLD = """
year: 2025
targets:
  - {task: 2, value: 3, range: [3, 4], unit: 所, comparator: ">=", kind: cumulative_count, phrase: 品牌校3-4所}
"""


def test_a_gold_file_reads_into_targets_with_their_ranges() -> None:
    gold = load_gold(GOOD_GOLD)
    assert gold.year == 2025
    assert gold.targets == [
        ScoredTarget(2, 3.0, "所", Comparator.GE, TargetKind.CUMULATIVE_COUNT, "品牌校3-4所", (3.0, 4.0))
    ]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("year: 2025\ntargets: 3", "targets must be a list"),
        ("targets: []", "year must be a year"),
        ("year: 2025\ntarget: []", "unknown keys"),
        (GOOD_GOLD.replace('">="', '"≥≥"'), "not a valid Comparator"),
        (GOOD_GOLD.replace("cumulative_count", "count"), "not a valid TargetKind"),
        (GOOD_GOLD.replace("value: 3,", "value: 三,"), "value must be a number"),
        (GOOD_GOLD.replace("range: [3, 4]", "range: [2, 4]"), "low end must equal value"),
        (GOOD_GOLD.replace(" unit: 所,", ""), "missing ['unit']"),
    ],
)
def test_a_broken_gold_file_is_refused_naming_file_row_and_fault(broken: str, message: str) -> None:
    with pytest.raises(GoldError, match=re.escape(message)) as raised:
        load_gold(broken, source="x.gold.yaml")
    assert str(raised.value).startswith("x.gold.yaml")


# --- the command -----------------------------------------------------------------------------------


def test_the_import_command_scores_a_text_against_its_gold_reading() -> None:
    text_file = CORPUS / "dev" / "haimen_jiaoti_2020_shishi.txt"
    args = ["import", str(text_file), "--score", str(_gold_file(text_file)), "--json"]
    outcome = CliRunner().invoke(plan_app, args)
    assert outcome.exit_code == 0, outcome.output
    printed = json.loads(outcome.output)
    expected = _scored(text_file).score
    assert (printed["precision"], printed["recall"], printed["year"]) == (expected.precision, expected.recall, 2020)
    assert [row["phrase"] for row in printed["missed"]] == [t.phrase for t in expected.missed]


def test_the_import_command_prints_precision_and_recall() -> None:
    text_file = CORPUS / "dev" / "haimen_jiaoti_2020_shishi.txt"
    outcome = CliRunner().invoke(plan_app, ["import", str(text_file), "--score", str(_gold_file(text_file))])
    assert outcome.exit_code == 0, outcome.output
    assert re.search(r"precision \d\.\d{3} .*recall \d\.\d{3}", outcome.output)


def test_a_table_is_scored_zero_until_tables_are_read() -> None:
    table = CORPUS / "test" / "nanling_jiaoyu_2024_fenjie.xlsx"
    outcome = CliRunner().invoke(plan_app, ["import", str(table), "--score", str(_gold_file(table)), "--json"])
    printed = json.loads(outcome.output)
    assert (printed["precision"], printed["recall"], printed["found"]) == (0.0, 0.0, 0)
    assert "XLSX" in printed["note"]
    refused = CliRunner().invoke(plan_app, ["import", str(table)])
    assert refused.exit_code != 0
