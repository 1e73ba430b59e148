"""`make run ONCE=1`'s wait: `duban up --once` from the installed .venv, timed from outside.

What a newcomer waits for after `make install`: the embedded nats-server, the four services and the
console started, the simulated year replayed, every report rendered, everything stopped. Run in a
scratch DUBAN_HOME on free ports, so it leaves nothing behind and disturbs nothing already running.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from duban.isolated import free_port

DUBAN = Path(sys.executable).with_name("duban")
#: The reports of the whole simulated year (seed 2023), as `duban up --once` writes them (227 files: sha256
#: over each name and its bytes, in name order; bench/out/once-reports.sha256 has each file's hash). Until
#: reports counted alerts by their severity as of the report's instant, a deadline whose stage advanced at
#: the report's own morning tick was counted under whichever severity the reports service had kept when it
#: read: dc4a942 gave ce902c5b… on some runs and f6ef5a4c… on others. Since then every run gives this one
#: (the monthly/weekly/annual "产生预警…" breakdowns of 2023-08, 2023-12, Q4, W35, W47 and the year differ).
YEAR_REPORTS_SHA256 = "66ae0e00ccc80c7cb6d19f09738faee5e6a8687e4b4f34ae5868f0f77ab4d355"
REPLAYED = re.compile(r"replayed (\d+) messages .*? and (\d+) clock ticks\s+in (\d+)s")


@dataclass(frozen=True)
class OnceResult:
    until: date | None
    wall_seconds: float
    replay_seconds: float  # as `duban up` reports it (nan when it did not finish)
    exit_code: int
    reports: int
    reports_sha256: str  # over every report file's name and bytes (the same seed: the same reports)

    @property
    def same_reports(self) -> bool | None:
        """Whether the whole year's reports are byte for byte those of the slow replay (None: part of a year)."""
        return self.reports_sha256 == YEAR_REPORTS_SHA256 if self.until is None else None


async def measure(until: date | None = None, *, timeout: float = 600.0) -> OnceResult:
    """`duban up --once`, stopped (SIGTERM, exit code -1) after `timeout` seconds: far past any target."""
    with tempfile.TemporaryDirectory(prefix="duban-bench-once-") as home:
        env = dict(os.environ)
        env |= {"DUBAN_HOME": home, "DUBAN_NATS_PORT": str(free_port()), "DUBAN_RUNTIME_PORT": str(free_port())}
        env |= {f"DUBAN_{name}_HTTP_PORT": str(free_port()) for name in ("INGEST", "TASKS", "ALERTS", "REPORTS")}
        env["DUBAN_CONSOLE_HTTP_PORT"] = str(free_port())
        env.pop("DUBAN_NATS_URL", None)
        command = [str(DUBAN), "up", "--once", *(["--until", until.isoformat()] if until else [])]
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=home, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        stopped = False
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
        except TimeoutError:
            process.terminate()
            output, _ = await process.communicate()
            stopped = True
        wall = time.perf_counter() - started
        text = output.decode(errors="replace")
        (Path(__file__).parent / "out").mkdir(exist_ok=True)
        (Path(__file__).parent / "out" / "once.log").write_text(text, encoding="utf-8")
        found = REPLAYED.search(" ".join(text.split()))
        reports = sorted((Path(home) / "out" / "reports").glob("*.*"))
        digest = hashlib.sha256()
        manifest = []
        for path in reports:
            content = path.read_bytes()
            digest.update(path.name.encode() + b"\0" + content)
            manifest.append(f"{hashlib.sha256(content).hexdigest()}  {path.name}\n")
        # each file's hash, to tell which reports differ from another run's
        (Path(__file__).parent / "out" / "once-reports.sha256").write_text("".join(manifest), encoding="utf-8")
        return OnceResult(
            until=until,
            wall_seconds=wall,
            replay_seconds=float(found[3]) if found else float("nan"),
            exit_code=-1 if stopped else process.returncode or 0,
            reports=len(reports),
            reports_sha256=digest.hexdigest(),
        )
