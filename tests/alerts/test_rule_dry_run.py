"""`duban alerts dry-run`: stored events through candidate rules, counted against what was raised, sending nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import typer
from nats.aio.client import Client
from typer.testing import CliRunner

from duban_alerts.domain import load_rules, parse_rules
from duban_alerts.entrypoints.cli import register
from duban_alerts.usecases.dry_run import dry_run
from duban_contracts.events import (
    AlertRaised,
    AlertState,
    Event,
    MeasurementRecorded,
    Severity,
    UnitRef,
    derived_event_id,
)
from duban_contracts.topology import Topology
from tests.support.bus import publish_event

SCHOOL = UnitRef(id="bz-ez", name="巴中市第二中学", township="江北街道", stage="高中")
SEPTEMBER = datetime.fromisoformat("2023-09-04T10:00:00+08:00")
BUNDLED = resources.files("duban_alerts.domain").joinpath("rules.yaml").read_text(encoding="utf-8")
#: A candidate that tolerates classes up to 70 (超大班额 from 71): 66 no longer counts as a breach.
LENIENT = BUNDLED.replace('{op: ">=", value: 56, severity: warning', '{op: ">=", value: 71, severity: warning').replace(
    '{op: ">=", value: 66, severity: major', '{op: ">=", value: 81, severity: major'
)


def class_size(n: int, pupils: int, day: int = 0) -> MeasurementRecorded:
    at = SEPTEMBER + timedelta(days=day)
    return MeasurementRecorded(
        event_id=derived_event_id("dry-run", n),
        occurred_at=at,
        recorded_at=at,
        source=SCHOOL.id,
        unit=SCHOOL,
        metric="class_size",
        metric_zh="班额",
        value=pupils,
        measure_unit="人",
        class_name=f"七年级{n}班",
    )


def was_raised(n: int, day: int = 0) -> AlertRaised:
    at = SEPTEMBER + timedelta(days=day)
    return AlertRaised(
        event_id=derived_event_id("dry-run-alert", n),
        occurred_at=at,
        recorded_at=at,
        source="alerts",
        alert_id=f"a{n}",
        fingerprint=f"f{n}",
        rule="class_size",
        severity=Severity.MAJOR,
        state=AlertState.FIRING,
        title_zh="班额超标",
        summary_zh="",
        first_seen=at,
        last_seen=at,
    )


HISTORY: list[Event] = [class_size(1, 66), class_size(2, 58), class_size(3, 45), was_raised(1), was_raised(2)]


def test_the_bundled_rules_replayed_raise_what_was_raised() -> None:
    result = dry_run(HISTORY, load_rules(), (), first=date(2023, 9, 1), last=date(2023, 9, 30))

    outcome = result.rules["class_size"]
    assert (outcome.would_raise, outcome.was_raised, outcome.difference) == (2, 2, 0)
    assert result.facts_applied == 3


def test_a_lenient_candidate_raises_fewer_and_says_so_per_rule() -> None:
    result = dry_run(HISTORY, parse_rules(LENIENT), (), first=date(2023, 9, 1), last=date(2023, 9, 30))

    outcome = result.rules["class_size"]
    assert (outcome.would_raise, outcome.was_raised, outcome.difference) == (0, 2, -2)
    assert result.as_json()["rules"]["class_size"]["difference"] == -2


def test_only_changes_within_the_window_are_counted_though_earlier_facts_are_replayed() -> None:
    result = dry_run(HISTORY, load_rules(), (), first=date(2023, 10, 1), last=date(2023, 10, 31))

    assert result.rules.get("class_size") is None or result.rules["class_size"].would_raise == 0
    assert result.facts_applied == 3


@pytest.mark.timeout(120)
async def test_the_command_reads_the_stream_and_writes_json_without_publishing_anything(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for event in HISTORY:
        await publish_event(nc, topology.subjects, event)
    before = (await nc.jetstream().stream_info(topology.streams["events"].name)).state.messages
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(LENIENT, encoding="utf-8")
    out = tmp_path / "dry-run.json"
    monkeypatch.setenv("DUBAN_NATS_URL", nats_url)
    monkeypatch.setenv("DUBAN_NAMESPACE", namespace)

    duban = typer.Typer()
    register(duban)  # as `duban` loads its plugins
    result = await asyncio.to_thread(
        CliRunner().invoke,
        duban,
        [
            "alerts",
            "dry-run",
            "--rules",
            str(candidate),
            "--from",
            "2023-09-01",
            "--to",
            "2023-09-30",
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["rules"]["class_size"] == {
        "would_raise": 0,
        "would_resolve": 0,
        "was_raised": 2,
        "was_resolved": 0,
        "difference": -2,
        "examples": [],
    }
    assert "class_size" in result.output
    after = (await nc.jetstream().stream_info(topology.streams["events"].name)).state.messages
    assert after == before  # nothing published
