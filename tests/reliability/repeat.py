"""Run the reliability suite again and again: a fault test must pass every time, not most times.

`make reliability RUNS=20` (or `python -m tests.reliability.repeat --runs 20`) runs
`pytest -m reliability` RUNS times in a row, stops at the first failing run, and writes what it saw —
each run's outcome, duration and failures, the commit and the machine — to `docs/reliability-runs.md`.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"=+ (?P<summary>.*?(passed|failed|error).*?) in [\d.]+s")


@dataclass(frozen=True)
class Run:
    number: int
    passed: bool
    seconds: float
    summary: str
    failures: list[str]


def run_once(number: int, pytest_args: list[str]) -> Run:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "reliability", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    found = SUMMARY.findall(output)
    summary = found[-1][0] if found else f"exit code {result.returncode}"
    failures = [line.split(" ", 1)[1] for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return Run(number, result.returncode == 0, time.monotonic() - started, summary, failures)


def commit() -> str:
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return described.stdout.strip() or "unknown"


def render(runs: list[Run], wanted: int) -> str:
    passed = sum(run.passed for run in runs)
    verdict = (
        f"**{passed} of {wanted} runs passed in a row.**"
        if passed == wanted
        else f"**Run {runs[-1].number} failed** after {passed} passing run(s); the runs stopped there."
    )
    lines = [
        "# The reliability suite, run again and again",
        "",
        "Written by `make reliability RUNS=N` (`tests/reliability/repeat.py`): `pytest -m reliability`",
        "N times in a row on one machine, stopping at the first failure. A fault test that passes most of",
        "the time proves nothing; this is the record that it passes every time.",
        "",
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit `{commit()}`",
        f"- machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        f"- load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "",
        verdict,
        "",
        "| run | outcome | minutes | pytest says | failures |",
        "|---:|---|---:|---|---|",
    ]
    for run in runs:
        failed = "<br>".join(run.failures) or "—"
        outcome = "pass" if run.passed else "FAIL"
        lines.append(f"| {run.number} | {outcome} | {run.seconds / 60:.1f} | {run.summary} | {failed} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "reliability-runs.md")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (e.g. -k outage)")
    args = parser.parse_args(argv)
    runs: list[Run] = []
    for number in range(1, args.runs + 1):
        run = run_once(number, args.pytest_args)
        runs.append(run)
        print(f"run {number}/{args.runs}: {'pass' if run.passed else 'FAIL'} in {run.seconds:.0f}s — {run.summary}")
        for failure in run.failures:
            print(f"  {failure}")
        args.out.write_text(render(runs, args.runs), encoding="utf-8")
        if not run.passed:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
