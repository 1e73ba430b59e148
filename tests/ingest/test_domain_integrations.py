"""The integrations registry: which units an integration may speak for, and the rejection when it may not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from duban_contracts.plan import load_plan
from duban_ingest.domain.integrations import IntegrationRegistry
from duban_ingest.domain.normalise import NormalisationContext, Normalised, Rejection, normalise
from duban_ingest.domain.registry import UnitRegistry

RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
REGISTRY = {
    "integrations": {
        "district-platform": "*",
        "bz-ez-campus": ["bz-ez"],
        "zengkou-office": ["曾口镇"],
        "bureau-oa": ["section"],
        "mixed": ["bz-q7x", "枣林镇", "external"],
    }
}


@pytest.fixture(scope="module")
def units() -> UnitRegistry:
    return UnitRegistry.load()


@pytest.fixture(scope="module")
def registry(units: UnitRegistry) -> IntegrationRegistry:
    return IntegrationRegistry.from_data(REGISTRY, units)


@pytest.fixture(scope="module")
def context(units: UnitRegistry) -> NormalisationContext:
    return NormalisationContext(plan=load_plan(), registry=units, received_at=RECEIVED_AT)


def activity(source: str, context: NormalisationContext) -> Normalised | Rejection:
    return normalise({"kind": "activity", "source": source, "activity": "安全教育周", "date": "2023-06-05"}, context)


@pytest.mark.parametrize(
    ("integration", "unit_id", "allowed"),
    [
        ("district-platform", "bz-zkzx", True),
        ("district-platform", "sec-office", True),
        ("bz-ez-campus", "bz-ez", True),
        ("bz-ez-campus", "bz-q7x", False),
        ("zengkou-office", "bz-zkzx", True),  # 巴州区曾口中学, township 曾口镇
        ("zengkou-office", "bz-zk-zxxx", True),
        ("zengkou-office", "bz-zlxx", False),  # 枣林镇
        ("bureau-oa", "sec-office", True),
        ("bureau-oa", "bz-ez", False),
        ("mixed", "bz-q7x", True),
        ("mixed", "bz-zlzx", True),
        ("mixed", "bz-ez", False),
        ("not-registered", "bz-ez", False),
    ],
)
def test_an_integration_speaks_for_the_units_ids_townships_and_kinds_it_is_registered_for(
    registry: IntegrationRegistry, units: UnitRegistry, integration: str, unit_id: str, allowed: bool
) -> None:
    unit = units.get(unit_id)
    assert unit is not None
    assert registry.grant_of(integration).covers(unit) is allowed


def test_speaking_for_another_unit_is_rejected_saying_who_for_whom_and_what_it_may(
    registry: IntegrationRegistry, context: NormalisationContext
) -> None:
    verdict = registry.judge("bz-ez-campus", activity("巴州区曾口中学", context))

    assert isinstance(verdict, Rejection)
    assert (verdict.codes, verdict.kind, verdict.unit_id) == (("unit_not_permitted",), "activity", "bz-zkzx")
    [problem] = verdict.problems
    assert (problem.field, problem.value) == ("source", "巴州区曾口中学")
    assert "bz-ez-campus" in problem.message_en
    assert "bz-zkzx" in problem.message_en
    assert "it may speak for: bz-ez" in problem.message_en
    assert "bz-ez-campus" in problem.message_zh
    assert "曾口中学" in problem.message_zh


def test_its_own_unit_passes_unchanged(registry: IntegrationRegistry, context: NormalisationContext) -> None:
    verdict = activity("巴中二中", context)
    assert registry.judge("bz-ez-campus", verdict) is verdict


def test_an_unregistered_integration_may_speak_for_no_unit(
    registry: IntegrationRegistry, context: NormalisationContext
) -> None:
    verdict = registry.judge("somebody-else", activity("巴中二中", context))

    assert isinstance(verdict, Rejection)
    assert verdict.codes == ("unit_not_permitted",)
    assert verdict.problems[0].field == "integration"
    assert "not registered" in verdict.problems[0].message_en


def test_the_shared_subject_is_not_checked(registry: IntegrationRegistry, context: NormalisationContext) -> None:
    verdict = activity("巴州区曾口中学", context)
    assert registry.judge(None, verdict) is verdict


def test_a_rejection_for_another_unit_leads_with_unit_not_permitted_and_keeps_its_other_problems(
    registry: IntegrationRegistry, context: NormalisationContext
) -> None:
    broken = normalise({"kind": "activity", "source": "巴州区曾口中学", "date": "2023-06-05"}, context)
    assert isinstance(broken, Rejection)

    verdict = registry.judge("bz-ez-campus", broken)

    assert isinstance(verdict, Rejection)
    assert verdict.codes == ("unit_not_permitted", *broken.codes)


def test_a_submission_whose_unit_is_unknown_keeps_its_own_rejection(
    registry: IntegrationRegistry, context: NormalisationContext
) -> None:
    unknown = activity("不存在的学校", context)
    assert isinstance(unknown, Rejection)
    assert registry.judge("bz-ez-campus", unknown) is unknown


@pytest.mark.parametrize(
    ("integrations", "message"),
    [
        ({"bz-ez-campus": ["bz-nowhere"]}, "'bz-nowhere' is not a unit id of the registry, a township or a unit kind"),
        ({"Bad.Id": "*"}, "integration id 'Bad.Id'"),
        ({"bz-ez-campus": "bz-ez"}, "allowed units are '*' or a list"),
        ([], "an `integrations` mapping"),
    ],
)
def test_a_registry_that_names_what_does_not_exist_is_refused_at_load(
    units: UnitRegistry, integrations: object, message: str
) -> None:
    data = {"integrations": integrations} if isinstance(integrations, dict) else integrations
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace("(", r"\(")):
        IntegrationRegistry.from_data(data, units)


def test_the_registry_file_is_read_and_its_errors_name_the_file(units: UnitRegistry, tmp_path: Path) -> None:
    good = tmp_path / "integrations.yaml"
    good.write_text(yaml.safe_dump(REGISTRY, allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "broken.yaml"
    bad.write_text("integrations:\n  bz-ez-campus: [nowhere]\n", encoding="utf-8")

    assert set(IntegrationRegistry.load(good, units).grants) == set(REGISTRY["integrations"])
    with pytest.raises(ValueError, match=r"broken\.yaml: integration bz-ez-campus: 'nowhere'"):
        IntegrationRegistry.load(bad, units)


def test_the_example_registry_of_deploy_loads_against_the_bundled_units(units: UnitRegistry) -> None:
    path = Path(__file__).resolve().parents[2] / "deploy" / "integrations.yaml"
    registry = IntegrationRegistry.load(path, units)
    assert registry.grant_of("district-platform").every_unit
