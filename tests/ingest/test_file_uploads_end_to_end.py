"""A school's 1,000-row spreadsheet through ingest to tasks over real NATS: good rows once, bad rows named."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import openpyxl
import pytest
from nats.aio.client import Client

from duban.isolated import free_port
from duban_contracts.events import ProgressRecorded, SubmissionRejected
from duban_contracts.reporting_units import load_reporting_units
from duban_contracts.rpc import StatusQuery, StatusReply
from duban_contracts.topology import Topology
from duban_ingest.app import create_app as create_ingest
from duban_ingest.config import IngestSettings
from duban_kit.tokens import generate_token
from duban_tasks.app import create_app as create_tasks
from duban_tasks.config import TasksSettings
from tests.support.bus import Collector, collecting, drained, running

pytestmark = pytest.mark.timeout(240)

TOKEN = generate_token()
TARGET = "t07_sports_ground_new"  # 新增运动场地9000平方米
HEADER = ["学校", "指标", "数值", "日期", "备注"]
BAD_EVERY = 20  # 5% of the rows


def rows() -> tuple[list[list[object]], dict[int, str], float]:
    """1,000 data rows; every 20th is bad in one of five ways. Returns rows, bad sheet rows → code, good total."""
    schools = [u.name for u in load_reporting_units().units if u.kind == "school"]
    data: list[list[object]] = []
    bad: dict[int, str] = {}
    good_total = 0.0
    for n in range(1000):
        sheet_row = n + 3  # a title row and the header come first
        school = schools[n % len(schools)]
        day = f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}"
        value = 1 + n % 7  # 平方米, small: the total stays below the target
        problem = n // BAD_EVERY % 5 if n % BAD_EVERY == BAD_EVERY - 1 else None
        match problem:
            case 0:
                data.append([school, "新增运动场地", -value, day, ""])
                bad[sheet_row] = "negative_value"
            case 1:
                data.append(["巴州区不存在的学校", "新增运动场地", value, day, ""])
                bad[sheet_row] = "unknown_unit"
            case 2:
                data.append([school, "新增运动场地", value, "2023年13月45日", ""])
                bad[sheet_row] = "invalid_date"
            case 3:
                data.append([school, "新增运动场地", f"{value}元", day, ""])
                bad[sheet_row] = "unit_mismatch"
            case 4:
                data.append([school, "新增运动场地", value, "2022-06-01", ""])
                bad[sheet_row] = "date_outside_plan_year"
            case _:
                data.append([school, "新增运动场地", value, day, f"第{n}批"])
                good_total += value
    return data, bad, good_total


def as_xlsx(data: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2023年新增运动场地进度填报表（各校汇总）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    sheet.append(["合计", "", sum(r[2] for r in data if isinstance(r[2], int)), "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_gb18030_csv(data: list[list[object]]) -> bytes:
    lines = ["2023年新增运动场地进度填报表（各校汇总）", ",".join(HEADER)]
    lines += [",".join(str(cell) for cell in row) for row in data]
    lines.append("合计,,,,")
    return ("\n".join(lines) + "\n").encode("gb18030")


async def upload(http: httpx.AsyncClient, url: str, name: str, content: bytes) -> dict[str, object]:
    response = await http.post(url, files={"file": (name, content)}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202, response.text
    return dict(response.json())


def settled(out: Collector, expected: int) -> bool:
    return len(out.of("progress.recorded")) + len(out.of("submission.rejected")) >= expected


async def test_a_thousand_row_workbook_and_its_csv_twin_deliver_every_good_row_once(
    nc: Client, nats_url: str, namespace: str, topology: Topology, postgres_url: str, tmp_path: Path
) -> None:
    data, bad, good_total = rows()
    port = free_port()
    common = {"nats_url": nats_url, "namespace": namespace, "database_url": postgres_url, "home": tmp_path}
    ingest = create_ingest(IngestSettings(**common, http_port=port, api_tokens=f"{TOKEN}:integration"))  # type: ignore[arg-type]
    tasks = create_tasks(TasksSettings(**common))  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}/submissions"
    workbook = as_xlsx(data)
    async with (
        collecting(nc, topology.subjects) as out,
        running(ingest),
        running(tasks),
        httpx.AsyncClient(timeout=60) as http,
    ):
        first = await upload(http, url, "运动场地.xlsx", workbook)
        await out.wait_for(lambda c: settled(c, 1000), timeout=120)
        twin = await upload(http, url, "运动场地.csv", as_gb18030_csv(data))
        await out.wait_for(lambda c: settled(c, 2000), timeout=120)
        again = await upload(http, url, "运动场地.xlsx", workbook)
        await drained(nc, topology, {"ingest", "tasks"})
        reply = await tasks.broker.request(
            StatusQuery(level="target", ref=TARGET).model_dump(mode="json"),
            subject=topology.subjects.rpc("tasks", "query"),
            timeout=10,
        )

    progress: list[ProgressRecorded] = out.of("progress.recorded")
    rejected: list[SubmissionRejected] = out.of("submission.rejected")
    assert first["rows"] == 1000 and twin["rows"] == 1000
    assert again["duplicates"] == 1000 and again["published"] == 0
    assert len(progress) == 1000 - len(bad)
    assert {e.provenance.file_id for e in progress} == {first["file_id"]}
    workbook_rejections = {e.provenance.row: e.code for e in rejected if e.provenance.file_id == first["file_id"]}
    assert workbook_rejections == bad
    twin_codes = {e.provenance.row: e.code for e in rejected if e.provenance.file_id == twin["file_id"]}
    assert len(twin_codes) == 1000
    assert {code for row, code in twin_codes.items() if row not in bad} == {"duplicate_content"}
    assert StatusReply.model_validate_json(reply.body).view.actual == pytest.approx(good_total)
