"""Clerks' phrases resolve to the one plan target that fits, or are rejected with the candidates named.

The corpus (tests/ingest/data/target_phrases.yaml) was split into a dev half, tuned on, and a test half,
only scored. Both must agree with their labels on at least `REQUIRED_AGREEMENT` of phrases, and neither
may resolve a phrase to a wrong target: a wrong target is worse than a rejection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from duban_contracts.plan import load_plan
from duban_ingest.domain.phrases import Vocabulary
from duban_ingest.domain.targets import (
    CLASS_SIZE,
    DAILY_EXERCISE_MINUTES,
    FoundMetric,
    FoundTarget,
    TargetIndex,
    TargetLookupFailure,
)

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "target_phrases.yaml").read_text(encoding="utf-8"))
REQUIRED_AGREEMENT = 0.95
OUTCOMES = ("ambiguous", "unknown")


@pytest.fixture(scope="module")
def index() -> TargetIndex:
    return TargetIndex(load_plan())


def outcome(index: TargetIndex, entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """What the resolver makes of a corpus phrase: a target or metric id, or ambiguous/unknown and the ids it names."""
    if entry.get("kind") == "measurement":
        metric = index.find_metric(entry["phrase"])
        if isinstance(metric, FoundMetric):
            return metric.spec.metric, ()
        return ("ambiguous" if metric.ambiguous else "unknown"), metric.ids
    found = index.find(entry["phrase"])
    if isinstance(found, FoundTarget):
        return found.target.id, ()
    return ("ambiguous" if found.ambiguous else "unknown"), found.ids


def test_the_corpus_has_two_disjoint_halves_of_clerks_phrases_with_negatives() -> None:
    dev, test = CORPUS["dev"], CORPUS["test"]
    assert len(dev) + len(test) >= 200
    assert not {(e["phrase"], e.get("kind")) for e in dev} & {(e["phrase"], e.get("kind")) for e in test}
    for half in (dev, test):
        expected = [entry["expect"] for entry in half]
        assert expected.count("ambiguous") >= 10
        assert expected.count("unknown") >= 10
        assert sum(1 for e in half if e.get("kind") == "measurement") >= 10


@pytest.mark.parametrize("half", ["dev", "test"])
def test_clerks_phrases_resolve_as_labelled_and_never_to_a_wrong_target(index: TargetIndex, half: str) -> None:
    agreed, wrong, missed = 0, [], []
    for entry in CORPUS[half]:
        got, named = outcome(index, entry)
        expected = entry["expect"]
        among = set(entry.get("among", ()))
        if got == expected and among <= set(named):
            agreed += 1
        elif got in OUTCOMES:
            missed.append((entry["phrase"], expected, got))
        else:
            wrong.append((entry["phrase"], expected, got))
    assert wrong == [], f"resolved to a wrong target: {wrong}"
    agreement = agreed / len(CORPUS[half])
    assert agreement >= REQUIRED_AGREEMENT, f"{half}: {agreement:.3f} agree; rejected instead: {missed}"


# --- the ways clerks write, one by one --------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase",
    [
        "全区新建校舍1.54万平方米以上",  # scope and hedge words
        "力争新建中小学校舍",
        "新建校舍1.2万平方米",  # the figure in 万
        "新建校舍12000平方米",  # … in digits
        "新建校舍一万二千平方米",  # … in Chinese numerals
        "新建校舍 12000",  # the metric name and a figure
        "新增校舍",  # a synonym
        "校舍新建面积",  # words swapped
        "【新建中小学校舍】：15,400㎡",  # punctuation, full-width forms, a thousands comma
    ],
)
def test_a_shortened_or_paraphrased_plan_phrase_resolves_to_its_target(index: TargetIndex, phrase: str) -> None:
    found = index.find(phrase)
    assert isinstance(found, FoundTarget), found
    assert found.target.id == "t07_school_building_new"
    assert found.match.method == "fuzzy"
    assert 0 < found.match.score <= 1
    assert found.match.phrase == phrase


@pytest.mark.parametrize(
    ("phrase", "target_id"),
    [
        ("招录老师", "t19_teachers_recruited"),  # 招录 → 补充, 老师 → 教师
        ("资助学子7.02万人次", "t26_student_aid"),  # 学子 → 学生
        ("学生补助", "t26_student_aid"),  # 补助 → 资助
        ("校舍修缮", "t07_school_building_repair"),  # 修缮 → 维修, swapped
        ("维修改造校舍１．３８万平方米", "t07_school_building_repair"),  # full-width digits
        ("撤销村级教学点二十一个", "t06_village_teaching_points_closed"),
        ("第26届推普周活动", "t12_putonghua_week"),  # an ordinal is a word, not a figure
    ],
)
def test_synonyms_numerals_and_ordinals_are_read_as_the_plan_means_them(
    index: TargetIndex, phrase: str, target_id: str
) -> None:
    found = index.find(phrase)
    assert isinstance(found, FoundTarget), found
    assert found.target.id == target_id


@pytest.mark.parametrize(
    ("phrase", "target_id"),
    [
        ("高新技术 27亿元", "t31_hitech_output"),  # 元: not the enterprise counts (家)
        ("体彩 2个", "t36_lottery_outlets_new"),  # 个: not the sales (元) or the fund (ratio)
        ("体彩 1亿元", "t36_lottery_sales"),
        ("运动场地（个）", "t34_township_sports_grounds"),  # a unit alone, in brackets
    ],
)
def test_the_unit_of_a_figure_rules_out_targets_of_another_unit(
    index: TargetIndex, phrase: str, target_id: str
) -> None:
    found = index.find(phrase)
    assert isinstance(found, FoundTarget), found
    assert found.target.id == target_id


def test_a_phrase_that_fits_several_targets_is_ambiguous_and_names_each_by_phrase_and_id(index: TargetIndex) -> None:
    found = index.find("示范幼儿园2所")  # a figure never picks between targets that differ only in theirs
    assert isinstance(found, TargetLookupFailure)
    assert found.ambiguous
    expected = {"t12_kindergarten_provincial", "t12_kindergarten_municipal", "t12_kindergarten_district"}
    assert set(found.ids) == expected
    assert "申报创建市级示范幼儿园（t12_kindergarten_municipal）" in found.candidates


def test_a_near_tie_is_ambiguous_rather_than_a_guess(index: TargetIndex) -> None:
    found = index.find("高新技术企业 20家")
    assert isinstance(found, TargetLookupFailure)
    assert found.ambiguous
    assert {"t31_hitech_new", "t31_hitech_total"} <= set(found.ids)


@pytest.mark.parametrize(
    "phrase", ["新建学生宿舍", "校园绿化面积", "图书购置", "新建教学楼", "新建校舍X", "完成", "12"]
)
def test_a_phrase_the_plan_does_not_speak_of_is_unknown(index: TargetIndex, phrase: str) -> None:
    found = index.find(phrase)
    assert isinstance(found, TargetLookupFailure), found
    assert not found.ambiguous


def test_an_unknown_phrase_is_offered_the_closest_targets(index: TargetIndex) -> None:
    found = index.find("新建学生宿舍")
    assert isinstance(found, TargetLookupFailure)
    assert "t07_school_building_new" in found.ids
    assert "新建中小学校舍（t07_school_building_new）" in found.candidates


@pytest.mark.parametrize(
    ("phrase", "method"),
    [
        ("t07_school_building_new", "id"),
        ("新建中小学校舍（t07_school_building_new）", "id"),  # a candidate pasted back from a rejection
        ("新建中小学校舍1.54万平方米", "exact"),
        ("新建中小学校舍", "exact"),
        ("新建校舍", "alias"),
        ("全区新建校舍", "fuzzy"),
    ],
)
def test_every_match_says_how_it_was_made(index: TargetIndex, phrase: str, method: str) -> None:
    found = index.find(phrase)
    assert isinstance(found, FoundTarget), found
    assert (found.target.id, found.match.method, found.match.phrase) == ("t07_school_building_new", method, phrase)
    if method != "fuzzy":
        assert found.match.score == 1.0


@pytest.mark.parametrize(
    ("phrase", "metric"),
    [
        ("每日运动时长（分钟）", DAILY_EXERCISE_MINUTES),
        ("学生每天体育锻炼时间", DAILY_EXERCISE_MINUTES),
        ("班额（人）", CLASS_SIZE),
        ("每班学生数", CLASS_SIZE),
        ("优生就读率（%）", "t12_top_student_enrolment_rate"),
        ("学校AED配置率", "t35_aed_coverage"),
    ],
)
def test_a_measurement_s_metric_is_found_from_a_clerk_s_wording(index: TargetIndex, phrase: str, metric: str) -> None:
    found = index.find_metric(phrase)
    assert isinstance(found, FoundMetric), found
    assert found.spec.metric == metric
    assert found.match.method == "fuzzy"


@pytest.mark.parametrize("phrase", ["班级数", "近视率", "身高"])
def test_a_metric_the_plan_does_not_measure_is_unknown(index: TargetIndex, phrase: str) -> None:
    found = index.find_metric(phrase)
    assert isinstance(found, TargetLookupFailure), found
    assert not found.ambiguous


def test_the_synonym_table_is_data() -> None:
    plan = load_plan()
    bundled = TargetIndex(plan)
    with_teachers_as_mentors = TargetIndex(plan, Vocabulary(drop=["全区"], synonyms={"教师": ["导师"]}, unit_words={}))
    assert isinstance(bundled.find("补充导师"), TargetLookupFailure)
    found = with_teachers_as_mentors.find("全区补充导师")
    assert isinstance(found, FoundTarget)
    assert found.target.id == "t19_teachers_recruited"
