"""Who may speak for which unit: the registry of integrations.

An integration (a school's own system, a township's education office, the district platform) is
known by an id; it publishes on its own subject `<ns>.in.submission.<id>` (NATS lets only its user
publish there) and, over HTTP, with a token of role `integration` named by that id. The registry says
for which reporting units each may submit (`DUBAN_INGEST_INTEGRATIONS_FILE`, YAML):

    integrations:
      district-platform: "*"                # every unit; may also use the shared subject
      bz-ez-campus: [bz-ez]                 # unit ids
      zengkou-office: [曾口镇]               # every unit of a township
      bureau-oa: [section]                  # every unit of a kind: school, section, external

A submission on an integration's own subject for a unit outside its grant is rejected with
`unit_not_permitted` (what: the unit; where: the integration; why: the units it may speak for), and
so is everything an integration that is not registered sends on its own subject.

The shared subject `<ns>.in.submission` carries no integration: it is open to every unit. Without a
registry (the development default) that is all there is — every integration may speak for every
unit. With one, the NATS permissions generated from the same file (deploy/nats/generate_auth.py)
let only the integrations registered with `*` publish on the shared subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from duban_contracts.subjects import INTEGRATION_ID_RE

from .model import Normalised
from .problems import Problem, Rejection
from .registry import UNIT_KINDS, Unit, UnitRegistry
from .text import compact

EVERY_UNIT = "*"


@dataclass(frozen=True)
class Grant:
    """The units one integration may speak for."""

    every_unit: bool = False
    unit_ids: frozenset[str] = field(default_factory=frozenset)
    townships: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)

    def covers(self, unit: Unit) -> bool:
        return (
            self.every_unit
            or unit.id in self.unit_ids
            or (unit.township is not None and unit.township in self.townships)
            or unit.kind in self.kinds
        )

    def describe(self) -> str:
        if self.every_unit:
            return EVERY_UNIT
        parts = [*sorted(self.unit_ids), *sorted(self.townships), *sorted(self.kinds)]
        return "、".join(parts) or "（无）"


NO_UNIT = Grant()


class IntegrationRegistry:
    """Integration id → `Grant`, checked against the units' registry when it is loaded."""

    def __init__(self, grants: Mapping[str, Grant], units: UnitRegistry) -> None:
        self.grants = dict(grants)
        self.units = units

    @classmethod
    def load(cls, path: Path, units: UnitRegistry) -> IntegrationRegistry:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"integrations registry {path}: cannot read it: {error}") from None
        try:
            return cls.from_data(data, units)
        except ValueError as error:
            raise ValueError(f"integrations registry {path}: {error}") from None

    @classmethod
    def from_data(cls, data: object, units: UnitRegistry) -> IntegrationRegistry:
        if not isinstance(data, Mapping) or not isinstance(data.get("integrations"), Mapping):
            raise ValueError("an integrations registry is a mapping with an `integrations` mapping")
        grants: dict[str, Grant] = {}
        for integration, allowed in data["integrations"].items():
            if not isinstance(integration, str) or not INTEGRATION_ID_RE.match(integration):
                raise ValueError(
                    f"integration id {integration!r} must be lowercase letters, digits, '-' or '_' "
                    "(it is a NATS subject token and the name of its token)"
                )
            grants[integration] = _grant(integration, allowed, units)
        return cls(grants, units)

    def grant_of(self, integration: str) -> Grant:
        return self.grants.get(integration, NO_UNIT)

    def judge(self, integration: str | None, verdict: Normalised | Rejection) -> Normalised | Rejection:
        """`verdict`, or a rejection when `integration` may not speak for its unit.

        The shared subject (`integration` None) is not checked; nor is a submission whose unit is not
        known (it is rejected already, for that).
        """
        if integration is None:
            return verdict
        unit = self._unit_of(verdict)
        grant = self.grant_of(integration)
        if unit is None or grant.covers(unit):
            return verdict
        problem = unit_not_permitted(integration, unit, grant, registered=integration in self.grants)
        if isinstance(verdict, Rejection):
            return Rejection((problem, *verdict.problems), verdict.kind, verdict.unit_id)
        return Rejection((problem,), type(verdict).__name__.lower(), unit.id)

    def _unit_of(self, verdict: Normalised | Rejection) -> Unit | None:
        if isinstance(verdict, Rejection):
            return self.units.get(verdict.unit_id) if verdict.unit_id else None
        return verdict.unit


def unit_not_permitted(integration: str, unit: Unit, grant: Grant, *, registered: bool) -> Problem:
    if not registered:
        return Problem(
            "unit_not_permitted",
            "integration",
            integration,
            f"接入系统“{integration}”未登记，不能代任何单位报送（{unit.name}）；请联系教育局登记其可报送的单位。",
            f"integration '{integration}' is not registered, so it may speak for no unit (here {unit.id} "
            f"{unit.name}); ask the bureau to register the units it reports for.",
        )
    allowed = grant.describe()
    return Problem(
        "unit_not_permitted",
        "source",
        unit.name,
        f"接入系统“{integration}”无权代“{unit.name}”（{unit.id}）报送；它可报送的单位：{allowed}。",
        f"integration '{integration}' may not submit for {unit.id} {unit.name}; it may speak for: {allowed}.",
    )


def _grant(integration: str, allowed: object, units: UnitRegistry) -> Grant:
    if allowed == EVERY_UNIT:
        return Grant(every_unit=True)
    if isinstance(allowed, str) or not isinstance(allowed, Iterable):
        raise ValueError(
            f"integration {integration}: allowed units are {EVERY_UNIT!r} or a list of unit ids, "
            f"township names or unit kinds ({', '.join(UNIT_KINDS)}), not {allowed!r}"
        )
    townships = {compact(u.township): u.township for u in units.all() if u.township}
    unit_ids: set[str] = set()
    named_townships: set[str] = set()
    kinds: set[str] = set()
    for entry in allowed:
        text = str(entry).strip()
        if text == EVERY_UNIT:
            return Grant(every_unit=True)
        if units.get(text) is not None:
            unit_ids.add(text)
        elif compact(text) in townships:
            named_townships.add(townships[compact(text)])
        elif text in UNIT_KINDS:
            kinds.add(text)
        else:
            raise ValueError(
                f"integration {integration}: {text!r} is not a unit id of the registry, a township or a unit "
                f"kind ({', '.join(UNIT_KINDS)})"
            )
    return Grant(unit_ids=frozenset(unit_ids), townships=frozenset(named_townships), kinds=frozenset(kinds))
