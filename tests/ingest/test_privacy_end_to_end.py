"""Personal data sent to ingest over real NATS comes out nowhere: not in the canonical events, not in
rejections (events and the query endpoint), not in the alerts raised from them (alerts running too)."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

from nats.aio.client import Client

from duban_alerts.app import create_app as create_alerts
from duban_alerts.config import AlertsSettings
from duban_contracts.topology import Topology
from duban_ingest.app import create_app as create_ingest
from duban_ingest.config import IngestSettings
from tests.support.bus import collecting, running

SECRET = "e2e-privacy-key-7c1d9a4f0b3e6a2d5c8f1e0b"
PUPIL = "王小红"
SUMMARY = (
    f"七年级3班{PUPIL}、李强在王家坝村河边溺水；张小明（男，12岁）呼救。"
    f"{PUPIL}身份证号511902 20140512 3417，家长电话139-8161-2233，座机（0827）5261234。"
)
TOO_LONG = "学生王小红身份证511902201405123417，家长电话13981612345。" + "情况说明" * 600
#: Every spelling of the personal data above that must not be found in anything ingest or alerts publish.
PERSONAL = (
    PUPIL,
    "李强",
    "张小明",
    "小红",
    "谭明辉",
    "赵德明",
    "511902 20140512 3417",
    "511902201405123417",
    "20140512",
    "139-8161-2233",
    "13981612345",
    "8161-2233",
    "5261234",
)


async def submit(nc: Client, topology: Topology, submission_id: str, body: object) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    await nc.jetstream().publish(topology.subjects.inbound_submission, payload, headers={"Nats-Msg-Id": submission_id})


def leaked(text: str) -> list[str]:
    return [span for span in PERSONAL if span in text]


async def test_personal_data_sent_to_ingest_leaves_it_masked_in_events_rejections_and_alerts(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    common = {"nats_url": nats_url, "namespace": namespace, "database_url": database_url, "home": tmp_path}
    ingest = create_ingest(IngestSettings(**common, privacy_secret=SECRET))  # type: ignore[arg-type]
    alerts = create_alerts(AlertsSettings(**common))  # type: ignore[arg-type]
    async with collecting(nc, topology.subjects) as out, running(ingest), running(alerts):
        await submit(
            nc,
            topology,
            "p-incident",
            {
                "类型": "事故",
                "学校": "巴中二中",
                "类别": "溺水",
                "死亡": 1,
                "受伤": 1,
                "班级": f"七年级3班{PUPIL}",
                "发生时间": "2023-07-15 15:20",
                "摘要": SUMMARY,
            },
        )
        await submit(
            nc,
            topology,
            "p-activity",
            {
                "kind": "activity",
                "source": "巴中二中",
                "activity": "家长会，家长代表谭明辉发言",
                "date": "2023-03-28",
                "note": f"学生{PUPIL}获评区级好少年",
            },
        )
        await submit(
            nc,
            topology,
            "p-progress",
            {
                "kind": "progress",
                "source": "巴中二中",
                "indicator": "新建中小学校舍",
                "value": "1200平方米",
                "date": "2023-06-05",
                "note": "联系人：赵德明 13981612345",
            },
        )
        await submit(
            nc,
            topology,
            "p-too-long",
            {"类型": "事故", "学校": "巴中二中", "类别": "溺水", "发生时间": "2023-07-15", "摘要": TOO_LONG},
        )
        await submit(nc, topology, "p-not-json", f'{{"summary": "学生{PUPIL} 13981612345'.encode())
        await out.wait_for(
            lambda c: (
                len(c.of("submission.rejected")) == 2
                and len(c.of("incident.reported"))
                == len(c.of("activity.recorded"))
                == len(c.of("progress.recorded"))
                == 1
                and any(a.rule == "safety_incident" for a in c.of("alert.raised"))
            )
        )
        await out.caught_up(topology, {"ingest", "alerts"})  # whatever else they publish is checked too
        listed = await ingest.broker.request({"what": "rejected"}, subject=topology.subjects.rpc("ingest", "query"))

    published = {event.event_type + ":" + event.event_id: event.model_dump_json() for event in out.events}
    assert {k: leaked(v) for k, v in published.items() if leaked(v)} == {}
    assert leaked(listed.body.decode()) == []

    (incident,) = out.of("incident.reported")
    code = re.search(r"王某〔([0-9A-F]{4})〕", incident.summary)
    assert code is not None
    assert "王家坝村" in incident.summary
    assert incident.summary.count("〔身份证号〕") == 1
    assert "〔手机号〕" in incident.summary and "〔电话〕" in incident.summary
    assert incident.class_name == f"七年级3班王某〔{code[1]}〕"
    (activity,) = out.of("activity.recorded")
    assert activity.note == f"学生王某〔{code[1]}〕获评区级好少年"
    (progress,) = out.of("progress.recorded")
    assert progress.note is not None and progress.note.startswith("联系人：赵某〔")

    rejected = {e.submission_id: e for e in out.of("submission.rejected")}
    assert rejected["p-too-long"].code == "too_long"
    assert rejected["p-too-long"].value is not None and rejected["p-too-long"].value.startswith("学生王某")
    assert rejected["p-not-json"].code == "invalid_json"

    alert = next(a for a in out.of("alert.raised") if a.rule == "safety_incident")
    assert f"王某〔{code[1]}〕" in alert.summary_zh
    assert leaked(alert.model_dump_json()) == []


async def test_while_ingest_runs_its_log_lines_are_masked(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    log = logging.getLogger("duban_kit.consumer")
    settings = IngestSettings(
        nats_url=nats_url, namespace=namespace, database_url=f"sqlite:///{tmp_path}/{{service}}.db", home=tmp_path
    )
    try:
        async with running(create_ingest(settings)):
            log.error("handling failed: 学生%s 电话%s", PUPIL, "13981612345")
        log.error("after stop: 13981612345")
    finally:
        root.removeHandler(handler)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith(("handling failed", "after stop"))]
    assert lines == [
        "handling failed: 学生王某 电话〔手机号〕",
        "after stop: 13981612345",
    ]  # the filter goes with ingest
