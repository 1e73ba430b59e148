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

from .servers import free_port

DUBAN = Path(sys.executable).with_name("duban")
#: The reports of the whole simulated year (seed 2023), as `duban up --once` wrote them before the replay
#: was made fast (227 files: sha256 over each name and its bytes, in name order).
YEAR_REPORTS_SHA256 = "a202d67611539a4e9be584a1a8361ea8dcaefc37838fb532d8ec147132e576db"
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
        for path in reports:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return OnceResult(
            until=until,
            wall_seconds=wall,
            replay_seconds=float(found[3]) if found else float("nan"),
            exit_code=-1 if stopped else process.returncode or 0,
            reports=len(reports),
            reports_sha256=digest.hexdigest(),
        )
