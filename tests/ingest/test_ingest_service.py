"""The ingest service over real NATS, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from nats.aio.client import Client

from duban.isolated import free_port
from duban_contracts.topology import Topology
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_kit.tokens import generate_token
from tests.support.bus import collecting, running

TOKEN = generate_token()


def settings(nats_url: str, namespace: str, database_url: str, tmp_path: Path, port: int = 0) -> IngestSettings:
    return IngestSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=database_url,
        home=tmp_path,
        http_port=port,
        api_tokens=f"{TOKEN}:integration",
    )


async def submit(nc: Client, topology: Topology, submission_id: str | None, body: object) -> None:
    headers = {"Nats-Msg-Id": submission_id} if submission_id else None
    payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    await nc.jetstream().publish(topology.subjects.inbound_submission, payload, headers=headers)


async def test_messy_submissions_become_events_or_precise_rejections(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    runtime = create_app(settings(nats_url, namespace, database_url, tmp_path))
    async with collecting(nc, topology.subjects) as out, running(runtime):
        await submit(
            nc,
            topology,
            "m-1",
            {
                "类型": "进度",
                "学校": "巴中二中",
                "指标": "新建中小学校舍",
                "数值": "1.2万平方米",
                "日期": "2023年6月5日",
            },
        )
        await submit(
            nc,
            topology,
            "m-2",
            {
                "kind": "progress",
                "source": "巴中二中",
                "indicator": "新建中小学校舍",
                "value": "300元",
                "date": "2023-06-05",
            },
        )
        await submit(
            nc,
            topology,
            "m-3",
            {
                "kind": "progress",
                "source": "巴中九中",
                "indicator": "新建中小学校舍",
                "value": 10,
                "date": "2023-06-05",
            },
        )
        await submit(
            nc,
            topology,
            None,
            {"kind": "activity", "source": "办公室", "activity": "意识形态分析研判专题会", "date": "2023-03-28"},
        )
        await submit(nc, topology, "m-5", b"{not json")
        await submit(nc, topology, "m-1", {"kind": "anything"})  # the same id again: dropped by the stream
        await submit(
            nc,
            topology,
            "m-6",
            {
                "类型": "进度",
                "学校": "巴中二中",
                "指标": "新建中小学校舍",
                "数值": "1.2万平方米",
                "日期": "2023年6月5日",
            },
        )
        await out.wait_for(lambda c: len(c.of("progress.recorded")) + len(c.of("submission.rejected")) >= 6)
        await out.caught_up(topology, {"ingest"})
        rejected_list = await runtime.broker.request(
            {"what": "rejected"}, subject=topology.subjects.rpc("ingest", "query")
        )

    (progress,) = out.of("progress.recorded")
    assert (progress.submission_id, progress.value, progress.measure_unit, progress.unit.name) == (
        "m-1",
        12000.0,
        "平方米",
        "巴中市第二中学",
    )
    codes = {e.submission_id: e.code for e in out.of("submission.rejected")}
    assert codes["m-2"] == "unit_mismatch"
    assert codes["m-3"] == "unknown_unit"
    assert codes["m-5"] == "invalid_json"
    assert codes["m-6"] == "duplicate_content"
    assert any(code == "missing_submission_id" for code in codes.values())
    unknown = next(e for e in out.of("submission.rejected") if e.submission_id == "m-3")
    assert unknown.message_zh and unknown.message_en and unknown.field
    listed = json.loads(rejected_list.body)["rejected"]
    assert {r["submission_id"] for r in listed} >= {"m-2", "m-3", "m-5", "m-6"}


async def test_uploaded_csv_rows_go_through_once_and_bad_rows_are_rejected_with_their_row(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    port = free_port()
    runtime = create_app(settings(nats_url, namespace, f"sqlite:///{tmp_path}/{{service}}.db", tmp_path, port))
    csv_text = (
        "2023年校舍建设进度填报表\n"
        "学校,指标,数值,日期,备注\n"
        "巴中市第二中学,新建中小学校舍,5000,2023-04-01,一期\n"
        "巴中市第二中学,新建中小学校舍,-3,2023-04-02,\n"
        "巴州区第七小学,新建中小学校舍,0.6万平方米,2023-06-01,\n"
        "合计,,1.1万,,\n"
    )
    data = csv_text.encode("gb18030")
    async with collecting(nc, topology.subjects) as out, running(runtime), httpx.AsyncClient() as http:
        url = f"http://127.0.0.1:{port}/submissions"
        refused = await http.post(url, files={"file": ("校舍.csv", data)})
        first = await http.post(url, files={"file": ("校舍.csv", data)}, headers={"Authorization": f"Bearer {TOKEN}"})
        await out.wait_for(lambda c: len(c.of("progress.recorded")) + len(c.of("submission.rejected")) >= 3)
        again = await http.post(url, files={"file": ("校舍.csv", data)}, headers={"Authorization": f"Bearer {TOKEN}"})
        await out.caught_up(topology, {"ingest"})

    assert refused.status_code == 401
    assert first.status_code == 202 and first.json()["rows"] == 3
    assert again.json()["duplicates"] == 3
    assert sorted(e.value for e in out.of("progress.recorded")) == [5000.0, 6000.0]
    (bad,) = out.of("submission.rejected")
    assert bad.code == "negative_value"
    assert bad.provenance.row == 4
    assert bad.provenance.file_id == first.json()["file_id"]


async def _unused() -> None:  # keeps the import of runtime helpers honest for mypy
    return None
