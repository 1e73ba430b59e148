"""Bounded uploads: bodies capped while they stream in, sheets capped while they are read, parsing off
the event loop in worker processes within a time and a memory budget — and `/healthz` answering
promptly while hostile files are parsed."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from duban.isolated import free_port
from duban_contracts.topology import Topology
from duban_ingest.adapters.inbound import PreparedFile
from duban_ingest.adapters.sheet_pool import ParseBudget, SheetPool
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_ingest.domain.spreadsheets import FileLimits, FileRejection, Table, read_table
from duban_kit.service import ServiceRuntime
from tests.ingest.hostile_files import (
    honest_workbook,
    huge_csv,
    million_cell_row,
    million_cell_row_of_varied_figures,
    wide_csv_line,
    zip_bomb,
)
from tests.support.bus import running
from tests.support.orphans import left_after_killing

pytestmark = pytest.mark.timeout(180)

TOKEN = "uploader-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPLOAD_LIMITS = FileLimits(max_bytes=20 * 1024 * 1024, max_rows=50_000)


def _rejection(result: Table | FileRejection) -> FileRejection:
    assert isinstance(result, FileRejection), result
    return result


# --- caps checked while reading -------------------------------------------------------------------


def test_a_row_of_a_million_cells_is_stopped_at_the_cap_while_it_is_read() -> None:
    workbook = million_cell_row_of_varied_figures()  # compresses ~8:1: no ratio check applies
    tracemalloc.start()
    try:
        rejection = _rejection(read_table(workbook, "bomb.xlsx", UPLOAD_LIMITS))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rejection.code == "too_many_cells_in_row"
    assert "1024" in rejection.message_en
    # Built whole, that row takes hundreds of MiB; stopped at the 1,025th cell it takes next to nothing.
    assert peak < 16 * 1024 * 1024


def test_the_issues_compact_million_cell_row_is_refused_by_its_compression() -> None:
    workbook = million_cell_row()
    assert len(workbook) < 200 * 1024
    assert _rejection(read_table(workbook, "bomb.xlsx", UPLOAD_LIMITS)).code == "suspicious_compression"


def test_cells_in_all_are_capped_in_a_workbook_and_in_a_csv() -> None:
    limits = FileLimits(max_cells=1000)
    assert _rejection(read_table(honest_workbook(300), "a.xlsx", limits)).code == "too_many_cells"
    text = "学校,指标,数值,日期\n" + "巴中二中,新建校舍,1,2023-06-05\n" * 300
    assert _rejection(read_table(text.encode(), "a.csv", limits)).code == "too_many_cells"


def test_a_csv_line_of_a_million_fields_is_refused_before_it_is_split() -> None:
    rejection = _rejection(read_table(wide_csv_line(), "wide.csv", UPLOAD_LIMITS))
    assert (rejection.code, rejection.row) == ("too_many_cells_in_row", 2)


def test_delimiters_inside_quoted_text_are_not_cells() -> None:
    note = "，".join(["甲"] * 10) + "," * 2000  # a pasted note full of commas
    text = f'学校,指标,数值,日期,备注\n巴中二中,新建校舍,1,2023-06-05,"{note}"\n'
    table = read_table(text.encode(), "a.csv", FileLimits(max_cell_chars=5000))
    assert isinstance(table, Table), table
    assert table.rows[0].values["note"] == note


# --- the worker pool's budgets ---------------------------------------------------------------------


@asynccontextmanager
async def _pool(seconds: float, memory_bytes: int | None) -> AsyncIterator[SheetPool]:
    pool = SheetPool(UPLOAD_LIMITS, ParseBudget(seconds, memory_bytes), workers=1)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def test_a_parse_over_its_time_budget_is_stopped_and_the_pool_carries_on() -> None:
    slow, quick = honest_workbook(20_000), honest_workbook(3)
    async with _pool(seconds=0.2, memory_bytes=None) as pool:
        over = await pool.prepare(slow, "slow.xlsx")
        after = await pool.prepare(quick, "quick.xlsx")
    assert isinstance(over, FileRejection) and over.code == "parse_time_exceeded"
    assert "0.2" in over.message_en
    assert isinstance(after, PreparedFile) and len(after.rows) == 3


async def test_a_parse_over_its_memory_budget_is_stopped_and_the_pool_carries_on() -> None:
    hungry, small = huge_csv(), honest_workbook(3)
    async with _pool(seconds=30, memory_bytes=128 * 1024 * 1024) as pool:
        over = await pool.prepare(hungry, "huge.csv")
        after = await pool.prepare(small, "small.xlsx")
    assert isinstance(over, FileRejection) and over.code == "parse_memory_exceeded"
    assert isinstance(after, PreparedFile) and len(after.rows) == 3


_OWNER = """
import asyncio, os, sys
from duban_ingest.adapters.sheet_pool import ParseBudget, SheetPool
from duban_ingest.domain.spreadsheets import FileLimits

async def main() -> None:
    pool = SheetPool(FileLimits(), ParseBudget(5.0, None), workers=2)
    await pool.start()
    print(os.getpid(), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc (Linux)")
def test_the_workers_end_when_the_service_owning_them_is_killed() -> None:
    # two workers, the fork server, the resource tracker: none of them may outlive the service
    assert left_after_killing(_OWNER, started=3) == set()


# --- over HTTP --------------------------------------------------------------------------------------


def _settings(nats_url: str, namespace: str, tmp_path: Path, port: int, **overrides: object) -> IngestSettings:
    return IngestSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        http_port=port,
        api_tokens=f"{TOKEN}:integration",
        **overrides,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def _ingest(nats_url: str, namespace: str, tmp_path: Path, **overrides: object) -> AsyncIterator[str]:
    port = free_port()
    runtime: ServiceRuntime = create_app(_settings(nats_url, namespace, tmp_path, port, **overrides))
    async with running(runtime):
        yield f"http://127.0.0.1:{port}"


async def test_json_too_deep_or_too_large_is_refused_with_its_limit_never_a_500(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    large = json.dumps([{"kind": "activity", "note": "x" * 1000}] * 3000).encode()  # about 3 MB, well-formed
    async with _ingest(nats_url, namespace, tmp_path) as base, httpx.AsyncClient(timeout=30) as http:
        url = f"{base}/submissions"
        json_headers = {**AUTH, "Content-Type": "application/json"}
        too_deep = await http.post(url, content=deep[: 2 * 1024 * 1024], headers=json_headers)
        too_large = await http.post(url, content=large, headers=json_headers)
    assert too_deep.status_code == 400
    assert too_deep.json()["error"] == "json_too_deep"
    depth = IngestSettings.model_fields["max_json_depth"].default  # the inbound messages' depth, shared
    assert too_deep.json()["max_depth"] == depth
    assert str(depth) in too_deep.json()["message"]
    assert too_large.status_code == 413
    assert too_large.json()["error"] == "body_too_large"


async def test_a_file_body_over_the_limit_is_refused_413_raw_or_multipart(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    body = b"x" * (300 * 1024)
    async with (
        _ingest(nats_url, namespace, tmp_path, max_upload_bytes=100 * 1024) as base,
        httpx.AsyncClient(timeout=30) as http,
    ):
        url = f"{base}/submissions"
        raw = await http.post(url, content=body, headers={**AUTH, "Content-Type": "text/csv"})
        form = await http.post(url, files={"file": ("a.csv", body)}, headers=AUTH)
    assert (raw.status_code, raw.json()["error"]) == (413, "body_too_large")
    assert (form.status_code, form.json()["error"]) == (413, "body_too_large")


HOSTILE: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "bomb_row.xlsx": (million_cell_row_of_varied_figures, 413, "too_many_cells_in_row"),
    "issue_row.xlsx": (million_cell_row, 413, "suspicious_compression"),
    "zip_bomb.xlsx": (zip_bomb, 413, "suspicious_compression"),
    "huge.csv": (huge_csv, 413, "too_many_rows"),
    "wide.csv": (wide_csv_line, 413, "too_many_cells_in_row"),
    # Honest but slow: 30,000 rows read in full (seconds of parsing), then refused for want of a date.
    "slow.xlsx": (lambda: honest_workbook(30_000, dated=False), 422, "missing_columns"),
}


async def test_healthz_keeps_answering_while_hostile_uploads_are_parsed(
    nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name, (build, _status, _code) in HOSTILE.items():
        (folder / name).write_bytes(build())
    async with _ingest(nats_url, namespace, tmp_path) as base:
        answers, latencies = await _uploads_while_polling(base, folder)
    slowest = max(latencies)
    print(f"/healthz: {len(latencies)} probes while the uploads were parsed, slowest {slowest * 1000:.1f} ms")
    for name, (_build, status, code) in HOSTILE.items():
        assert answers[name] == [status, code], name
    assert len(latencies) >= 20  # the parsing lasted long enough to be probed
    # A bound on the outcome, not a timing: parsed on the event loop, the slow workbook alone holds
    # /healthz for seconds (the issue saw 16 s); off the loop, probes answer in milliseconds on a
    # quiet machine and in a few hundred on a loaded one.
    assert slowest < 1.0


#: Uploads every file of a folder at once, each from its own thread; prints {name: [status, error]}.
_UPLOADER = """
import json, os, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import httpx

url, token, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
os.nice(10)  # the clients are not what is measured: they yield the CPU to the service

def upload(path):
    with httpx.Client(timeout=120) as client:
        answer = client.post(url, files={"file": (path.name, path.read_bytes())},
                             headers={"Authorization": "Bearer " + token})
    return path.name, [answer.status_code, answer.json().get("error")]

with ThreadPoolExecutor(max_workers=16) as pool:
    print(json.dumps(dict(pool.map(upload, sorted(folder.iterdir())))))
"""


async def _uploads_while_polling(base: str, folder: Path) -> tuple[dict[str, list[object]], list[float]]:
    """Upload the folder's files at once from another process (so that the clients share neither this
    process's CPU time nor its interpreter lock with the service) and probe /healthz every 20 ms until
    all are answered; (answers, probe latencies)."""
    uploader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _UPLOADER, f"{base}/submissions", TOKEN, str(folder), stdout=asyncio.subprocess.PIPE
    )
    output = asyncio.create_task(uploader.communicate())
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=5) as probe:
        while not output.done():
            started = time.perf_counter()
            answer = await probe.get(f"{base}/healthz")
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 200
            await asyncio.sleep(0.02)
    stdout, _stderr = await output
    assert uploader.returncode == 0
    return json.loads(stdout), latencies
