"""Who reports: the registry of reporting units (schools, the bureau's 股室, other departments).

A name resolves only when it is exactly a unit's id, name or alias (after `text.compact`), or its
name with the district written out (`巴中市巴州区第七小学`) or left off (`曾口镇中心小学`). Anything
else is a `UnitLookupFailure` with the closest names (rapidfuzz) as candidates: the registry never
guesses, because progress credited to the wrong school is worse than a rejection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from rapidfuzz import fuzz, process

from duban_contracts.reporting_units import registry_text

from .text import compact

UnitKind = Literal["school", "section", "external"]

UNIT_KINDS: tuple[UnitKind, ...] = ("school", "section", "external")
STAGES = ("幼儿园", "小学", "初中", "九年一贯制", "高中", "中职")

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
#: Ways the district is written before a school's name; a unit named 巴州区X also answers to these + X and to X.
_DISTRICT_PREFIX = "巴州区"
_DISTRICT_SPELLINGS = ("巴中市巴州区", "四川省巴中市巴州区", "四川巴中巴州区", "巴中巴州区")
_CANDIDATE_LIMIT = 5
_CANDIDATE_CUTOFF = 65.0


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: UnitKind
    township: str | None
    stage: str | None
    aliases: tuple[str, ...]
    simulated: bool = False


@dataclass(frozen=True)
class UnitLookupFailure:
    name: str
    ambiguous: bool
    candidates: tuple[str, ...]


class UnitRegistry:
    """The reporting units, indexed once for exact lookups by id, name and alias."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units = tuple(units)
        _check_unique(self._units)
        self._ids = {unit.id: unit for unit in self._units}
        self._exact = _index(self._units, _explicit_keys)
        self._derived = _index(self._units, _derived_keys)
        self._choices = {key: ids for key, ids in self._exact.items() if not _ID.match(key)}

    @classmethod
    def load(cls, path: Path | None = None) -> UnitRegistry:
        """The registry in the YAML file at `path`, or the bundled one (shared reference data in contracts)."""
        return cls.from_data(yaml.safe_load(registry_text(path)))

    @classmethod
    def from_data(cls, data: object) -> UnitRegistry:
        if not isinstance(data, Mapping) or not isinstance(data.get("units"), list):
            raise ValueError("a unit registry is a mapping with a list of `units`")
        return cls(_unit_from_entry(entry) for entry in data["units"])

    def all(self) -> list[Unit]:
        return list(self._units)

    def get(self, unit_id: str) -> Unit | None:
        return self._ids.get(unit_id)

    def resolve(self, name: str) -> Unit | UnitLookupFailure:
        key = compact(name)
        ids = self._exact.get(key) or self._derived.get(key)
        if ids and len(ids) == 1:
            return self._by_id(ids[0])
        if ids:
            return UnitLookupFailure(name, ambiguous=True, candidates=tuple(self._by_id(i).name for i in ids))
        return UnitLookupFailure(name, ambiguous=False, candidates=self._closest(key))

    def _by_id(self, unit_id: str) -> Unit:
        return self._ids[unit_id]

    def _closest(self, key: str) -> tuple[str, ...]:
        if not key:
            return ()
        names: list[str] = []
        matches = process.extract(
            key, list(self._choices), scorer=fuzz.WRatio, limit=_CANDIDATE_LIMIT * 3, score_cutoff=_CANDIDATE_CUTOFF
        )
        for choice, _score, _index in matches:
            for unit_id in self._choices[choice]:
                name = self._by_id(unit_id).name
                if name not in names:
                    names.append(name)
        return tuple(names[:_CANDIDATE_LIMIT])


def registry_as_json(registry: UnitRegistry) -> list[dict[str, object]]:
    """The units as plain JSON objects, for `duban units list --json`."""
    return [
        {
            "id": unit.id,
            "name": unit.name,
            "kind": unit.kind,
            "township": unit.township,
            "stage": unit.stage,
            "aliases": list(unit.aliases),
            "simulated": unit.simulated,
        }
        for unit in registry.all()
    ]


def _unit_from_entry(entry: object) -> Unit:
    if not isinstance(entry, Mapping):
        raise ValueError(f"unit entry {entry!r} is not a mapping")
    fields = cast(Mapping[str, Any], entry)
    unit = Unit(
        id=str(fields["id"]),
        name=str(fields["name"]),
        kind=fields.get("kind", "school"),
        township=fields.get("township"),
        stage=fields.get("stage"),
        aliases=tuple(str(alias) for alias in fields.get("aliases") or ()),
        simulated=bool(fields.get("simulated", False)),
    )
    _check_unit(unit)
    return unit


def _check_unit(unit: Unit) -> None:
    if not _ID.match(unit.id):
        raise ValueError(f"unit id {unit.id!r} is not a short ASCII slug")
    if unit.kind not in UNIT_KINDS:
        raise ValueError(f"unit {unit.id}: kind {unit.kind!r} is not one of {UNIT_KINDS}")
    if unit.stage is not None and unit.stage not in STAGES:
        raise ValueError(f"unit {unit.id}: stage {unit.stage!r} is not one of {STAGES}")


def _check_unique(units: tuple[Unit, ...]) -> None:
    for attribute in ("id", "name"):
        seen: set[str] = set()
        for unit in units:
            value = compact(getattr(unit, attribute))
            if value in seen:
                raise ValueError(f"duplicate unit {attribute} {getattr(unit, attribute)!r}")
            seen.add(value)


def _explicit_keys(unit: Unit) -> set[str]:
    return {compact(unit.id), compact(unit.name), *(compact(alias) for alias in unit.aliases)}


def _derived_keys(unit: Unit) -> set[str]:
    name = compact(unit.name)
    if not name.startswith(_DISTRICT_PREFIX):
        return set()
    bare = name.removeprefix(_DISTRICT_PREFIX)
    return {bare, *(spelling + bare for spelling in _DISTRICT_SPELLINGS)}


def _index(units: tuple[Unit, ...], keys_of: Callable[[Unit], set[str]]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for unit in units:
        for key in keys_of(unit):
            if key and unit.id not in index.setdefault(key, []):
                index[key].append(unit.id)
    return {key: tuple(ids) for key, ids in index.items()}
