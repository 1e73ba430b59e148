"""Table of messy submissions (tests/ingest/data/cases.yaml) and what normalisation makes of them."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban_contracts.plan import load_plan
from duban_ingest.domain.normalise import (
    Activity,
    Incident,
    Measurement,
    NormalisationContext,
    Normalised,
    Progress,
    Rejection,
    UnitRegistry,
    normalise,
)

CASES_FILE = Path(__file__).parent / "data" / "cases.yaml"
RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
TYPES: dict[str, type] = {"progress": Progress, "incident": Incident, "measurement": Measurement, "activity": Activity}
TIME_FIELDS = {"occurred_at", "reported_at"}


def _load_cases() -> list[Any]:
    data = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    bases: dict[str, dict[str, object]] = data["bases"]
    params = []
    for case in data["cases"]:
        params.append(pytest.param(_submission(case, bases), case, id=case["name"]))
    return params


def _submission(case: dict[str, Any], bases: dict[str, dict[str, object]]) -> object:
    if "input" in case:
        return case["input"]
    submission = dict(bases[case["base"]])
    for key in case.get("drop", []):
        submission.pop(key, None)
    submission.update(case.get("set", {}))
    return submission


CASES = _load_cases()


@pytest.fixture(scope="module")
def context() -> NormalisationContext:
    return NormalisationContext(plan=load_plan(), registry=UnitRegistry.load(), received_at=RECEIVED_AT)


def test_the_table_has_at_least_two_hundred_cases() -> None:
    assert len(CASES) >= 200


@pytest.mark.parametrize(("submission", "case"), CASES)
def test_submission_normalises_as_tabled(
    submission: object, case: dict[str, Any], context: NormalisationContext
) -> None:
    result = normalise(submission, context)
    if "reject" in case:
        _assert_rejected(result, case)
    else:
        _assert_normalised(result, case["expect"])


def _assert_rejected(result: Normalised | Rejection, case: dict[str, Any]) -> None:
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    assert sorted(result.codes) == sorted(case["reject"]), [p.message_en for p in result.problems]
    first = result.problems[0]
    if "field" in case:
        assert first.field == case["field"]
    for candidate in case.get("candidates", []):
        assert candidate in first.candidates
    for problem in result.problems:
        assert problem.message_zh
        assert problem.message_en


def _assert_normalised(result: Normalised | Rejection, expect: dict[str, Any]) -> None:
    assert not isinstance(result, Rejection), [p.message_en for p in result.problems]
    for name, expected in expect.items():
        if name == "type":
            assert isinstance(result, TYPES[expected])
        elif name == "unit":
            assert result.unit.id == expected
        elif name in TIME_FIELDS:
            actual = getattr(result, name)
            assert actual.tzinfo is not None
            assert actual.utcoffset().total_seconds() == 0
            assert actual == datetime.fromisoformat(expected)
        elif isinstance(expected, float | int) and not isinstance(expected, bool):
            assert math.isclose(getattr(result, name), expected, rel_tol=1e-12), name
        else:
            assert getattr(result, name) == expected, name
