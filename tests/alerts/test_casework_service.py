"""Casework end to end over real NATS and a real database: `case` submissions in through ingest,
clocks kept by alerts, warnings before the due day, overdue alerts up the ladder, `duban cases list`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from nats.aio.client import Client
from typer.testing import CliRunner

from duban.bus import publish_tick
from duban_alerts.app import create_app as create_alerts
from duban_alerts.config import AlertsSettings
from duban_alerts.entrypoints.cases_cli import register as register_cases
from duban_contracts.casework import CaseAction, CaseChannel
from duban_contracts.events import CaseRecorded, UnitRef
from duban_contracts.rpc import CasesQuery
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_ingest.app import create_app as create_ingest
from duban_ingest.config import IngestSettings
from duban_reports.app import create_app as create_reports
from duban_reports.config import ReportsSettings
from tests.support.bus import collecting, publish_event, running


def local(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


async def submit(nc: Client, subjects: Subjects, submission_id: str, body: Mapping[str, object]) -> None:
    await nc.jetstream().publish(
        subjects.inbound_submission,
        json.dumps(body, ensure_ascii=False).encode(),
        headers={"Nats-Msg-Id": submission_id},
    )


async def cases(nc: Client, subjects: Subjects, query: CasesQuery) -> dict[str, Any]:
    reply = await nc.request(subjects.rpc("alerts", "cases"), query.model_dump_json().encode(), timeout=10)
    return dict(json.loads(reply.data))


WORK_ORDER = {
    "kind": "case",
    "source": "巴中二中",
    "case_id": "GD20230928017",
    "channel": "12345",
    "category": "咨询",
}
LETTER = {"kind": "case", "source": "巴中二中", "case_id": "XF20230901", "channel": "来信", "category": "招生入学"}


async def test_a_work_order_received_before_national_day_warns_then_goes_overdue_and_a_letter_is_concluded(
    nc: Client, nats_url: str, database_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    subjects = topology.subjects
    ingest = create_ingest(
        IngestSettings(nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path)
    )
    alerts = create_alerts(
        AlertsSettings(nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path)
    )
    async with collecting(nc, subjects) as out, running(ingest), running(alerts):
        # 12345 咨询: 3 working days after 9-28; 9-29…10-6 are the holiday, 10-7 and 10-8 调休: due 10-9,
        # the one-working-day warning from 10-8 (a Sunday worked).
        await submit(nc, subjects, "wo-1", WORK_ORDER | {"action": "received", "at": "2023-09-28 16:30"})
        await submit(nc, subjects, "xf-1", LETTER | {"action": "received", "at": "2023-09-01 10:00"})
        await submit(nc, subjects, "xf-2", LETTER | {"action": "accepted", "at": "2023-09-05 10:00"})
        await out.wait_for(lambda c: len(c.of("case.recorded")) == 3)
        recorded: list[CaseRecorded] = out.of("case.recorded")
        assert {e.case_id for e in recorded} == {"GD20230928017", "XF20230901"}
        # ingest published them; alerts keeps its own pace: the clocks must hold all three before the tick.
        await out.caught_up(topology, {"ingest", "alerts"})

        await publish_tick(nc, subjects, local("2023-10-08T23:59:59"), mode="replay")
        await out.wait_for(lambda c: any(e.rule == "case_handling" for e in c.of("alert.raised")))
        warning = next(e for e in out.of("alert.raised") if e.rule == "case_handling")
        assert warning.severity.value == "warning"
        assert warning.labels["case_id"] == "GD20230928017"
        assert "10月9日" in warning.title_zh

        listing = await cases(nc, subjects, CasesQuery(open_only=True, as_of=local("2023-10-10T12:00").date()))
        by_id = {row["case_id"]: row for row in listing["cases"]}
        assert by_id["GD20230928017"]["due"] == "2023-10-09"
        assert by_id["GD20230928017"]["overdue"] is True
        assert by_id["XF20230901"]["due"] == "2023-11-06"  # 60 days after 9-05 is Sat 11-04: the next Monday

        await publish_tick(nc, subjects, local("2023-10-10T23:59:59"), mode="replay")
        await out.wait_for(
            lambda c: any(e.rule == "case_handling" and e.severity.value == "major" for e in c.of("alert.updated"))
        )
        overdue = next(e for e in out.of("alert.updated") if e.rule == "case_handling" and e.severity.value == "major")
        assert "超过" in overdue.title_zh

        await submit(nc, subjects, "wo-2", WORK_ORDER | {"action": "concluded", "at": "2023-10-11 09:00"})
        await submit(nc, subjects, "xf-3", LETTER | {"action": "concluded", "at": "2023-10-20 09:00"})
        await out.wait_for(lambda c: any(e.rule == "case_handling" for e in c.of("alert.resolved")))
        await out.caught_up(topology, {"ingest", "alerts"})
        listing = await cases(nc, subjects, CasesQuery(open_only=True, as_of=local("2023-10-21T12:00").date()))

    assert listing["cases"] == []
    resolved = [e for e in out.of("alert.resolved") if e.rule == "case_handling"]
    assert [e.labels["case_id"] for e in resolved] == ["GD20230928017"]


async def test_the_monthly_report_shows_the_casework_rates_from_the_clocks_alerts_keep(
    nc: Client, nats_url: str, database_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    """ingest → alerts (clocks, `case.summarised`) → reports (信访维稳): a late work order and one in time."""
    subjects = topology.subjects
    ingest = create_ingest(
        IngestSettings(nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path)
    )
    alerts = create_alerts(
        AlertsSettings(nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path)
    )
    reports = create_reports(
        ReportsSettings(
            nats_url=nats_url,
            namespace=namespace,
            database_url=database_url,
            home=tmp_path,
            schedule_weekly="",
            schedule_quarterly="",
            schedule_annual="",
            formats="md",
        )
    )
    late = WORK_ORDER | {"case_id": "GD-LATE"}
    in_time = WORK_ORDER | {"case_id": "GD-OK"}
    async with collecting(nc, subjects) as out, running(ingest), running(alerts), running(reports):
        await submit(nc, subjects, "late-1", late | {"action": "received", "at": "2023-09-28 16:30"})
        await submit(nc, subjects, "late-2", late | {"action": "concluded", "at": "2023-10-11 09:00"})
        await submit(
            nc, subjects, "late-3", late | {"action": "revisited", "at": "2023-10-13 09:00", "满意度": "不满意"}
        )
        await submit(nc, subjects, "ok-1", in_time | {"action": "received", "at": "2023-10-09 10:00"})
        await submit(nc, subjects, "ok-2", in_time | {"action": "concluded", "at": "2023-10-11 10:00"})
        await submit(
            nc, subjects, "ok-3", in_time | {"action": "revisited", "at": "2023-10-12 10:00", "满意度": "满意"}
        )
        await submit(nc, subjects, "ok-4", in_time | {"action": "resolved", "at": "2023-10-16 10:00"})
        await out.wait_for(lambda c: len(c.of("case.summarised")) == 7)
        await out.caught_up(topology, {"ingest", "alerts", "reports"})
        await publish_tick(nc, subjects, local("2023-11-01T08:00:00"), mode="replay")
        await out.wait_for(lambda c: any(e.period == "2023-10" for e in c.of("report.generated")), timeout=60)

    latest = {e.case_id: e for e in sorted(out.of("case.summarised"), key=lambda e: (e.occurred_at, e.actions))}
    october = next(e for e in out.of("report.generated") if e.kind == "monthly" and e.period == "2023-10")
    markdown = Path(october.files[0].path).read_text(encoding="utf-8")
    line = next((text for text in markdown.splitlines() if text.startswith("- **信访**")), markdown)
    assert latest["GD-LATE"].due == date(2023, 10, 9)
    assert latest["GD-LATE"].concluded_on == date(2023, 10, 11)
    assert "12345热线1件" in line  # received in October: GD-OK (GD-LATE came in September)
    assert "按期办结率50%" in line  # GD-LATE was due 10-09 (国庆 in between), concluded 10-11
    assert "满意度50%" in line
    assert "化解率50%" in line


async def test_duban_cases_list_prints_the_open_cases_with_their_due_dates(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = create_alerts(
        AlertsSettings(nats_url=nats_url, namespace=namespace, database_url=f"sqlite:///{tmp_path}/{{service}}.db")
    )
    unit = UnitRef(id="sec-safety", name="安全稳定股", kind="section")
    at = local("2023-09-28T16:30:00")
    received = CaseRecorded(
        event_id="case-cli-1",
        occurred_at=at,
        recorded_at=at,
        source=unit.id,
        unit=unit,
        case_id="GD-CLI",
        channel=CaseChannel.HOTLINE,
        action=CaseAction.RECEIVED,
        category="咨询",
    )
    monkeypatch.setenv("DUBAN_NATS_URL", nats_url)
    monkeypatch.setenv("DUBAN_NAMESPACE", namespace)
    duban = typer.Typer()
    register_cases(duban)
    async with collecting(nc, topology.subjects) as out, running(alerts):
        await publish_event(nc, topology.subjects, received)
        await out.wait_for(lambda c: len(c.of("case.summarised")) == 1)
        listed = await asyncio.to_thread(
            CliRunner().invoke, duban, ["cases", "list", "--open", "--as-of", "2023-10-08", "--json"]
        )
        table = await asyncio.to_thread(CliRunner().invoke, duban, ["cases", "list", "--as-of", "2023-10-08"])

    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert (row["case_id"], row["state"], row["clock"], row["due"], row["stage"]) == (
        "GD-CLI",
        "待受理",
        "工单办理时限",
        "2023-10-09",
        "T-1wd",
    )
    assert table.exit_code == 0, table.output
    assert "GD-CLI" in table.output
