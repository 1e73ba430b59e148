"""The registry of reporting units and the plan's target index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from duban_contracts.plan import load_plan
from duban_ingest.domain.registry import STAGES, Unit, UnitLookupFailure, UnitRegistry, registry_as_json
from duban_ingest.domain.targets import CLASS_SIZE, DAILY_EXERCISE_MINUTES, MetricSpec, TargetIndex, TargetLookupFailure

PLAN_SCHOOLS = ("巴州区第七小学", "巴中市第二中学", "鼎山小学分校", "枣林小学", "水宁寺小学", "区七小附属幼儿园")
BAZHOU_TOWNSHIPS = {
    "江北街道", "东城街道", "西城街道", "回风街道", "宕梁街道", "时新街道", "曾口镇", "清江镇", "水宁寺镇",
    "化成镇", "梁永镇", "三江镇", "鼎山镇", "大茅坪镇", "枣林镇", "光辉镇", "平梁镇",
}  # fmt: skip


@pytest.fixture(scope="module")
def registry() -> UnitRegistry:
    return UnitRegistry.load()


def test_the_bundled_registry_has_about_seventy_units_of_every_kind(registry: UnitRegistry) -> None:
    units = registry.all()
    assert 60 <= len(units) <= 90
    assert {unit.kind for unit in units} == {"school", "section", "external"}


def test_every_school_the_plan_names_is_registered_and_not_simulated(registry: UnitRegistry) -> None:
    for name in PLAN_SCHOOLS:
        unit = registry.resolve(name)
        assert isinstance(unit, Unit), name
        assert unit.kind == "school"
        assert not unit.simulated


def test_every_responsible_section_of_the_plan_is_registered(registry: UnitRegistry) -> None:
    plan = load_plan()
    names = {name for _, task in plan.tasks() for name in task.responsible}
    names |= {name for placed in plan.placed_targets() for name in placed.target.responsible}
    for name in sorted(names):
        unit = registry.resolve(name)
        assert isinstance(unit, Unit), f"{name} is responsible in the plan but not in the registry"
        assert unit.kind == "section"


def test_schools_have_real_townships_and_known_stages(registry: UnitRegistry) -> None:
    schools = [unit for unit in registry.all() if unit.kind == "school"]
    assert {unit.township for unit in schools if unit.township} <= BAZHOU_TOWNSHIPS
    assert all(unit.stage in STAGES for unit in schools)
    assert {unit.stage for unit in schools} == set(STAGES)


def test_ids_are_short_ascii_slugs(registry: UnitRegistry) -> None:
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", unit.id) for unit in registry.all())


@pytest.mark.parametrize(
    ("name", "unit_id"),
    [
        ("巴中二中", "bz-ez"),
        ("巴中市第二中学", "bz-ez"),
        ("bz-ez", "bz-ez"),
        ("BZ-EZ", "bz-ez"),
        (" 巴中　二中 ", "bz-ez"),
        ("“区七小”", "bz-q7x"),
        ("四川省巴中市巴州区第七小学", "bz-q7x"),
        ("曾口镇中心小学", "bz-zk-zxxx"),
        ("人事股", "sec-personnel"),
    ],
)
def test_names_ids_and_aliases_resolve_exactly(registry: UnitRegistry, name: str, unit_id: str) -> None:
    unit = registry.resolve(name)
    assert isinstance(unit, Unit)
    assert unit.id == unit_id


def test_a_shared_alias_is_ambiguous_and_lists_every_unit_it_fits(registry: UnitRegistry) -> None:
    found = registry.resolve("曾口小学")
    assert isinstance(found, UnitLookupFailure)
    assert found.ambiguous
    assert set(found.candidates) == {"巴州区曾口镇中心小学", "巴州区曾口镇第二小学"}


def test_a_near_miss_is_never_guessed_but_offered_as_a_candidate(registry: UnitRegistry) -> None:
    found = registry.resolve("巴中第二中学")
    assert isinstance(found, UnitLookupFailure)
    assert not found.ambiguous
    assert found.candidates[0] == "巴中市第二中学"


def test_registry_as_json_lists_every_unit_with_its_fields(registry: UnitRegistry) -> None:
    rows = registry_as_json(registry)
    assert len(rows) == len(registry.all())
    second_school = next(row for row in rows if row["id"] == "bz-ez")
    assert second_school == {
        "id": "bz-ez",
        "name": "巴中市第二中学",
        "kind": "school",
        "township": None,
        "stage": "高中",
        "aliases": ["巴中二中", "市二中"],
        "simulated": False,
    }


def test_a_registry_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(
        yaml.safe_dump(
            {"units": [{"id": "x-one", "name": "甲学校", "kind": "school", "stage": "小学", "aliases": ["甲校"]}]},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    registry = UnitRegistry.load(path)
    unit = registry.resolve("甲校")
    assert isinstance(unit, Unit)
    assert unit.id == "x-one"


@pytest.mark.parametrize(
    "units",
    [
        [{"id": "a-1", "name": "甲"}, {"id": "a-1", "name": "乙"}],
        [{"id": "a-1", "name": "甲"}, {"id": "a-2", "name": "甲"}],
        [{"id": "Not A Slug", "name": "甲"}],
        [{"id": "a-1", "name": "甲", "kind": "army"}],
        [{"id": "a-1", "name": "甲", "stage": "大学"}],
    ],
    ids=["duplicate id", "duplicate name", "bad id", "bad kind", "bad stage"],
)
def test_an_inconsistent_registry_is_refused(units: list[dict[str, str]]) -> None:
    with pytest.raises(ValueError, match=r"."):
        UnitRegistry.from_data({"units": units})


@pytest.fixture(scope="module")
def targets() -> TargetIndex:
    return TargetIndex(load_plan())


def test_every_target_resolves_by_its_id(targets: TargetIndex) -> None:
    for placed in targets.plan.placed_targets():
        found = targets.resolve(placed.target.id)
        assert not isinstance(found, TargetLookupFailure)
        assert found.id == placed.target.id


def test_a_metric_name_shared_by_no_other_target_resolves_to_its_target(targets: TargetIndex) -> None:
    all_targets = [placed.target for placed in targets.plan.placed_targets()]
    for target in all_targets:
        if sum(1 for other in all_targets if target.metric in (other.metric, other.text, *other.aliases)) == 1:
            found = targets.resolve(target.metric)
            assert not isinstance(found, TargetLookupFailure), target.metric
            assert found.id == target.id


def test_class_size_and_exercise_are_checked_against_the_plan_constraints(targets: TargetIndex) -> None:
    class_size, exercise = targets.resolve_metric("班额"), targets.resolve_metric("体育锻炼时间")
    assert isinstance(class_size, MetricSpec)
    assert isinstance(exercise, MetricSpec)
    assert (class_size.metric, class_size.unit) == (CLASS_SIZE, "人")
    assert (exercise.metric, exercise.unit) == (DAILY_EXERCISE_MINUTES, "分钟")
    assert class_size.target is not None
    assert class_size.target.kind == "constraint"
    assert exercise.target is not None
    assert exercise.target.unit == "分钟"


def test_an_activity_matching_no_dated_or_periodic_target_is_unattributed(targets: TargetIndex) -> None:
    assert targets.match_activity("春季运动会") is None
    assert targets.match_activity("新建中小学校舍") is None  # a count target, not an activity
