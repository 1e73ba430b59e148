"""Casework end to end over real NATS and a real database: `case` submissions in through ingest,
clocks kept by alerts, warnings before the due day, overdue alerts up the ladder, `duban cases list`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client

from duban.bus import publish_tick
from duban_alerts.app import create_app as create_alerts
from duban_alerts.config import AlertsSettings
from duban_contracts.events import CaseRecorded
from duban_contracts.rpc import CasesQuery
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_ingest.app import create_app as create_ingest
from duban_ingest.config import IngestSettings
from tests.support.bus import collecting, running


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
