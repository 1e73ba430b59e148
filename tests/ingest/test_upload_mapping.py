"""Spreadsheets read by meaning, over HTTP and `duban submit`: the mapping used is returned and
printed, a file without a needed column is refused once (nothing published), `map` overrides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from nats.aio.client import Client
from typer.testing import CliRunner

from duban.isolated import free_port
from duban_contracts.topology import Topology
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_ingest.entrypoints.cli import register
from tests.support.bus import running

pytestmark = pytest.mark.timeout(120)

SHEETS = Path(__file__).parent / "data" / "sheets"
TOKEN = "uploader-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@asynccontextmanager
async def _ingest(nats_url: str, namespace: str, tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    settings = IngestSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        http_port=port,
        api_tokens=f"{TOKEN}:integration",
    )
    async with running(create_app(settings)):
        yield f"http://127.0.0.1:{port}/submissions"


async def _published(nc: Client, topology: Topology) -> int:
    info = await nc.jetstream().stream_info(topology.streams["inbound"].name)
    return int(info.state.messages)


def _upload(name: str, **fields: Any) -> dict[str, Any]:
    return {"files": {"file": (name, (SHEETS / name).read_bytes())}, "data": fields, "headers": AUTH}


async def test_an_upload_answers_with_the_mapping_it_used(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    async with _ingest(nats_url, namespace, tmp_path) as url, httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(url, **_upload("t02_school_quarter.xlsx", kind="progress"))
        published = await _published(nc, topology)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["rows"], body["published"], published) == (3, 3, 3)
    (sheet,) = body["mapping"]["sheets"]
    assert sheet["sheet"] == "Sheet1"
    assert sheet["header_rows"] == [2]
    columns = {column["header"]: (column["column"], column["field"]) for column in sheet["columns"]}
    assert columns == {
        "学校": ("A", "source"),
        "项目": ("B", "indicator"),
        "完成面积（平方米）": ("C", "value"),
        "完成时间": ("D", "date"),
        "备注": ("E", "note"),
    }
    value = next(column for column in sheet["columns"] if column["field"] == "value")
    assert value["unit"] == "平方米"
    assert sheet["unit_of_measure"] == {"in_headers": ["平方米"], "column": None}
    assert sheet["skipped"] == {"total": [6], "note": [7, 8]}
    assert sheet["not_used"] == []


async def test_a_file_without_a_needed_column_is_refused_once_and_nothing_is_published(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    async with _ingest(nats_url, namespace, tmp_path) as url, httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(url, **_upload("t14_no_value_column.xlsx", kind="progress"))
        published = await _published(nc, topology)

    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "missing_columns"
    assert body["columns_found"] == ["学校", "项目", "完成时间", "备注"]
    assert body["fields_wanted"] == ["value"]
    assert "数值" in body["message"] and "--map" in body["message"]
    assert published == 0


async def test_the_map_field_says_which_column_is_which(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    async with _ingest(nats_url, namespace, tmp_path) as url, httpx.AsyncClient(timeout=30) as http:
        unmapped = await http.post(url, **_upload("t14_no_value_column.xlsx", kind="progress"))
        mapped = await http.post(
            url, **_upload("t19_map_override.csv", kind="progress", map="完成情况=value, 学校=source")
        )
        several = await http.post(
            url,
            files={"file": ("t19.csv", (SHEETS / "t19_map_override.csv").read_bytes())},
            data={"kind": "progress", "map": ["完成情况=数值", "学校=source"]},
            headers=AUTH,
        )
        unknown_column = await http.post(url, **_upload("t19_map_override.csv", map="完成面积=value"))
        unknown_field = await http.post(url, **_upload("t19_map_override.csv", map="完成情况=amountx"))
        published = await _published(nc, topology)

    assert unmapped.status_code == 422
    assert mapped.status_code == 202, mapped.text
    columns = {c["header"]: (c["field"], c["match"]) for c in mapped.json()["mapping"]["sheets"][0]["columns"]}
    assert columns["完成情况"] == ("value", "map")
    assert columns["学校"] == ("source", "map")
    assert several.status_code == 202, several.text
    assert several.json()["duplicates"] == 1  # the same row, the same file content: the same submission
    assert (unknown_column.status_code, unknown_column.json()["error"]) == (422, "unknown_map_column")
    assert "完成情况" in unknown_column.json()["message"]  # the columns there are
    assert (unknown_field.status_code, unknown_field.json()["error"]) == (400, "unknown_map_field")
    assert published == 1


# --- duban submit ---------------------------------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_duban_submit_prints_the_mapping_it_uses() -> None:
    result = CliRunner().invoke(
        _cli(), ["submit", str(SHEETS / "t06_two_level_merged.xlsx"), "--kind", "progress", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "header on row 2-3" in result.output
    assert "D 完成情况/数值（万平方米） → value [万平方米] (exact)" in result.output
    assert "A 序号 — not used: row number" in result.output
    assert "rows skipped (total): 6" in result.output


def test_duban_submit_refuses_a_file_without_a_needed_column_naming_what_is_there() -> None:
    result = CliRunner().invoke(_cli(), ["submit", str(SHEETS / "t14_no_value_column.xlsx"), "--kind", "progress"])
    assert result.exit_code != 0
    assert "missing_columns" in result.output
    assert "columns found: 学校 | 项目 | 完成时间 | 备注" in result.output
    assert "fields wanted: value" in result.output


def test_duban_submit_map_overrides_the_reading() -> None:
    path = str(SHEETS / "t14_no_value_column.xlsx")
    result = CliRunner().invoke(
        _cli(), ["submit", path, "--kind", "progress", "--map", "备注=value", "--map", "项目=indicator", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "D 备注 → value (map)" in result.output
    assert "B 项目 → indicator (map)" in result.output
