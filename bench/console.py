"""`python -m bench.console`: how fast the console's pages render with the simulated year loaded.

Starts the whole stack as `duban up` does (embedded defaults: SQLite files, a fresh nats-server),
replays the simulated 2023 (`--until` for part of it), signs in, then asks for each page `--requests`
times one after the other and measures the p95. Each page's baseline is measured in the same run:
the NATS requests the page makes, sent straight from here (the services' own time); the ratio says
what the console adds (rendering, the session, HTTP). Nothing is asserted: the numbers are printed
and written to bench/out/console.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from duban.isolated import free_port
from duban.replay import replay
from duban.runtime import Stack
from duban.settings import RuntimeSettings
from duban.simulate import simulate_year
from duban_contracts.plan import load_plan
from duban_contracts.reporting_units import load_reporting_units
from duban_contracts.rpc import AggregateQuery, AlertsQuery, ConsoleQuery, StatusQuery

from .servers import nats_server

OUT = Path(__file__).parent / "out"
TOKEN = "bench-console-admin-token-0123456789"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOT_NAMES = {
    "/": "board",
    "/tasks/7": "task",
    "/targets/": "target",
    "/alerts": "alerts",
    "/alerts/": "alert",
    "/uploads": "upload",
    "/rejected": "rejected",
    "/rejected/": "submission",
    "/reports": "reports",
    "/units": "units",
}
TARGET = "t07_school_building_new"


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]


async def timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    for _ in range(3):  # warm caches (templates, the alert book) before measuring
        await call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def measure(stack: Stack, count: int) -> list[dict[str, Any]]:
    assert stack.console_url is not None
    subjects = stack.settings.subjects
    async with stack.client() as nc, httpx.AsyncClient(base_url=stack.console_url, timeout=30) as http:

        async def ask(service: str, verb: str, body: Any) -> Any:
            payload = body.model_dump_json() if hasattr(body, "model_dump_json") else json.dumps(body)
            reply = await nc.request(subjects.rpc(service, verb), payload.encode(), timeout=30)
            return json.loads(reply.data)

        form = await http.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf, "no sign-in form"
        signed = await http.post("/login", data={"token": TOKEN, "csrf_token": csrf[1]})
        assert signed.status_code == 303, signed.text
        alerts = (await ask("alerts", "query", AlertsQuery(state="all", limit=10_000)))["alerts"]
        rejected = (await ask("ingest", "query", {"what": "rejected", "limit": 1}))["rejected"]
        alert_id = alerts[0]["id"] if alerts else "none"
        submission_id = rejected[0]["submission_id"] if rejected else "none"
        pages: dict[str, tuple[str, Callable[[], Awaitable[Any]]]] = {
            "计划看板 /": (
                "/",
                lambda: asyncio.gather(ask("tasks", "query", StatusQuery()), ask("alerts", "query", AlertsQuery())),
            ),
            "任务 /tasks/7": ("/tasks/7", lambda: ask("tasks", "query", StatusQuery(level="task", ref="7"))),
            "指标 /targets/…": (
                f"/targets/{TARGET}",
                lambda: asyncio.gather(
                    ask("tasks", "query", StatusQuery(level="target", ref=TARGET)),
                    ask("tasks", "console", ConsoleQuery(what="target_history", ref=TARGET, limit=200)),
                    ask("reports", "console", ConsoleQuery(what="status_history", level="target", ref=TARGET)),
                ),
            ),
            "预警 /alerts": ("/alerts", lambda: ask("alerts", "query", AlertsQuery(limit=1000))),
            "预警详情 /alerts/…": (
                f"/alerts/{alert_id}",
                lambda: ask("alerts", "console", ConsoleQuery(what="alert", ref=alert_id)),
            ),
            "填报 /uploads": ("/uploads", lambda: http.get("/healthz")),
            "退回 /rejected": ("/rejected", lambda: ask("ingest", "query", {"what": "rejected", "limit": 2000})),
            "更正 /rejected/…": (
                f"/rejected/{submission_id}",
                lambda: ask("ingest", "console", ConsoleQuery(what="submission", ref=submission_id)),
            ),
            "报告 /reports": ("/reports", lambda: ask("reports", "query", AggregateQuery(name="reports"))),
            "单位 /units": ("/units", lambda: ask("reports", "console", ConsoleQuery(what="units"))),
        }
        results = []
        for name, (path, baseline) in pages.items():

            async def get(path: str = path) -> None:
                response = await http.get(path)
                assert response.status_code == 200, f"{path}: {response.status_code}"

            page_samples = await timed(get, count)
            base_samples = await timed(baseline, count)
            results.append(
                {
                    "page": name,
                    "path": path,
                    "p95_ms": p95(page_samples) * 1000,
                    "median_ms": statistics.median(page_samples) * 1000,
                    "baseline_p95_ms": p95(base_samples) * 1000,
                    "ratio": p95(page_samples) / p95(base_samples),
                    "requests": count,
                }
            )
            print(
                f"{name:<18} p95 {results[-1]['p95_ms']:7.1f} ms  baseline {results[-1]['baseline_p95_ms']:7.1f} ms",
                flush=True,
            )
        return results


async def screenshots(base_url: str, paths: list[str], out: Path) -> None:
    """Each page at 1280 and 375 px wide, signed in as admin, in Debian's chromium."""
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="duban-bench-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="zh-CN"
            )
            page = await context.new_page()
            await page.goto(f"{base_url}/login")
            await page.get_by_label("访问令牌").fill(TOKEN)
            await page.get_by_role("button", name="登录").click()
            await page.wait_for_url(f"{base_url}/")
            for width, height, suffix in ((1280, 900, "desktop"), (375, 812, "phone")):
                await page.set_viewport_size({"width": width, "height": height})
                for path in paths:
                    name = SHOT_NAMES.get(path) or SHOT_NAMES[path[: path.index("/", 1) + 1]]
                    await page.goto(f"{base_url}{path}")
                    await page.screenshot(path=str(out / f"{name}-{suffix}.png"), full_page=True)
            await context.close()


async def run(until: date | None, count: int, shots: Path | None = None) -> dict[str, Any]:
    with nats_server() as (nats_url, _), tempfile.TemporaryDirectory(prefix="duban-bench-console-") as home:
        env = {
            "DUBAN_API_TOKENS": f"{TOKEN}:admin",
            "DUBAN_HOME": home,
            "DUBAN_LOG_LEVEL": "WARNING",
            **{
                f"DUBAN_{s.upper()}_HTTP_PORT": str(free_port())
                for s in ("ingest", "tasks", "alerts", "reports", "console")
            },
        }
        with mock.patch.dict(os.environ, env):
            settings = RuntimeSettings(nats_url=nats_url, home=Path(home), runtime_port=free_port())
            stack = Stack(settings)
            await stack.start()
            try:
                plan = load_plan()
                year = simulate_year(2023, plan=plan, units=load_reporting_units().units, until=until)
                started = time.perf_counter()
                async with stack.client() as nc:
                    outcome = await replay(nc, settings.subjects, settings.topology, year, last_day=until)
                print(
                    f"replayed {outcome.sent} messages to {outcome.last_day} in {time.perf_counter() - started:.0f}s",
                    flush=True,
                )
                pages = await measure(stack, count)
                if shots is not None:
                    assert stack.console_url is not None
                    await screenshots(stack.console_url.rstrip("/"), [p["path"] for p in pages], shots)
            finally:
                await stack.stop()
    return {"until": str(until or "2023-12-31"), "messages": outcome.sent, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.splitlines()[0])
    parser.add_argument("--until", type=date.fromisoformat, help="replay only to this day (default: the whole year)")
    parser.add_argument("--requests", type=int, default=40, help="requests per page (default 40)")
    parser.add_argument("--screenshots", type=Path, help="also save each page at 1280 and 375 px here (docs/console)")
    args = parser.parse_args()
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.until, args.requests, args.screenshots))
    OUT.mkdir(exist_ok=True)
    (OUT / "console.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print("\n| page | p95 (ms) | median (ms) | baseline p95 (ms) | ratio |\n|---|---:|---:|---:|---:|")
    for row in result["pages"]:
        print(
            f"| {row['page']} | {row['p95_ms']:.0f} | {row['median_ms']:.0f} | {row['baseline_p95_ms']:.0f} | "
            f"{row['ratio']:.1f}× |"
        )


if __name__ == "__main__":
    main()
