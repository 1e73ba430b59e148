"""The simulated year's 信访 cases and 12345 work orders: every channel, and every clock's situation."""

from __future__ import annotations

from collections import Counter
from datetime import date

from duban.simulate import VALID
from duban_contracts.casework import CaseChannel
from duban_contracts.events import CaseRecorded
from tests.simulate.pipeline import bundled_plan, bundled_year, ingest, run_year


def case_events() -> list[CaseRecorded]:
    return [v.event for v in ingest(bundled_year(), bundled_plan()) if isinstance(v.event, CaseRecorded)]


def test_cases_come_on_every_channel_and_every_one_is_accepted_by_ingest() -> None:
    sent = [s for s in bundled_year().submissions if s.payload and s.payload.get("kind") == "case"]
    events = case_events()

    assert all(s.intent == VALID for s in sent)
    assert len(events) == len(sent)
    assert {e.channel for e in events if e.action.value == "received"} == set(CaseChannel)


def test_some_cases_are_extended_forwarded_or_received_before_a_long_holiday() -> None:
    events = case_events()
    actions = Counter(e.action.value for e in events)
    received = {e.occurred_at.date() for e in events if e.action.value == "received"}

    assert actions["extended"] >= 3
    assert actions["forwarded"] >= 1
    assert actions["revisited"] >= 10
    assert {date(2023, 1, 20), date(2023, 9, 28)} <= received


def test_the_year_raises_every_case_clock_and_resolves_the_work_order_concluded_in_time_over_national_day() -> None:
    year = run_year(bundled_year(), bundled_plan())
    raised = Counter(c.alert.rule for c in year.changes if c.kind == "raised")
    by_case: dict[str, list[str]] = {}
    for change in year.changes:
        if change.alert.rule == "case_handling":
            by_case.setdefault(change.alert.labels["case_id"], []).append(change.alert.severity.value)

    assert raised["case_acceptance"] >= 1
    assert raised["case_handling"] >= 5
    assert raised["case_revisit"] >= 1
    # Received 9-28 with 3 working days: due 10-09 across 中秋/国庆. The one concluded on 10-09 was
    # warned (10-08 is a Sunday worked), never overdue; the one concluded two working days later was.
    assert "major" not in by_case["GD2023H02"]
    assert "warning" in by_case["GD2023H02"]
    assert "major" in by_case["GD2023H03"]
