"""The replay gives the same reports, byte for byte, however fast it goes.

The first quarter of the simulated year is replayed into the four services (embedded defaults:
SQLite files) and every report file it produced is hashed. The expected hashes were written by the
replay as it was before it was made fast (it waited seconds per day); any change to how the replay
waits, publishes or ticks that changed a single figure fails here. A deliberate change to the reports
themselves rewrites the hashes with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/simulate/test_replay_hashes.py`
(then look at the reports it changed).
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

import pytest

from duban.isolated import isolated_stack
from duban.replay import replay
from duban.simulate import simulate_year
from duban_contracts.reporting_units import load_reporting_units
from tests.simulate.pipeline import SEED, bundled_plan

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

UNTIL = date(2023, 3, 31)
EXPECTED = Path(__file__).parent / "golden" / "replay-2023-Q1.sha256"
#: PDFs take seconds each; HTML, XLSX and Markdown carry the same figures.
WITHOUT_PDF = {"DUBAN_REPORTS_FORMATS": "html,xlsx,md"}


def report_hashes(reports_dir: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(reports_dir.iterdir())}


def read_expected() -> dict[str, str]:
    """`sha256sum` format: `<hash>  <file name>` per line."""
    lines = EXPECTED.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


def write_expected(hashes: dict[str, str]) -> None:
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    EXPECTED.write_text("".join(f"{digest}  {name}\n" for name, digest in hashes.items()), encoding="utf-8")


async def test_the_replayed_first_quarter_gives_the_reports_it_always_gave(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    year = simulate_year(SEED, plan=bundled_plan(), units=load_reporting_units().units, until=UNTIL)
    async with (
        isolated_stack(nats_url=nats_url, namespace=namespace, home=tmp_path, extra_env=WITHOUT_PDF) as stack,
        stack.client() as nc,
    ):
        outcome = await replay(nc, stack.settings.subjects, stack.settings.topology, year, last_day=UNTIL)

    assert {job["status"] for job in outcome.reports} == {"done"}
    hashes = report_hashes(tmp_path / "out" / "reports")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        write_expected(hashes)
        return
    expected = read_expected()
    assert sorted(hashes) == sorted(expected), "a different set of report files"
    changed = sorted(name for name in expected if hashes[name] != expected[name])
    assert not changed, f"reports differ from what the replay always gave: {changed}"
