"""A real Prometheus, configured like deploy/prometheus/prometheus.yml with the rules beside it, scrapes
all four services and the runtime of a running `duban up`, and every target is up."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from nats.aio.client import Client
from prometheus_client import start_http_server

from duban.isolated import free_port, isolated_stack
from duban.settings import PROCESSES, SERVICES
from duban.supervisor import SupervisorMetrics
from duban_kit.tokens import Role, load_tokens
from tests.support.servers import wait_for_port

from .tools import DEPLOY, require_tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PROMETHEUS = DEPLOY / "prometheus"
SCRAPE_INTERVAL = "1s"


def scrape_config(ports: dict[str, int], reader_token_file: Path | None = None) -> dict[str, Any]:
    """The deployed configuration with its targets replaced by loopback ports (`runtime` included) and
    its reader token read from `reader_token_file`; targets of services without a port are left out."""
    config: dict[str, Any] = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"] |= {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL}
    for job in config["scrape_configs"]:
        if "authorization" in job:
            if reader_token_file is None:
                del job["authorization"]
            else:
                job["authorization"]["credentials_file"] = str(reader_token_file)
        groups = [g for g in job["static_configs"] if g["labels"]["service"] in ports]
        for group in groups:
            group["targets"] = [f"127.0.0.1:{ports[group['labels']['service']]}"]
        job["static_configs"] = groups
    config["scrape_configs"] = [job for job in config["scrape_configs"] if job["static_configs"]]
    return config


@contextlib.contextmanager
def prometheus(config: dict[str, Any], workdir: Path) -> Iterator[str]:
    """`/usr/bin/prometheus` on a free loopback port with its own storage; its base URL, stopped after."""
    for rules in config.get("rule_files", []):
        shutil.copy(PROMETHEUS / rules, workdir / rules)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            require_tool("prometheus"),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def targets_when_all_up(base: str, expected: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Prometheus's active targets once `expected` of them are up, or as they are after `timeout`."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as http:
        targets: list[dict[str, Any]] = []
        while True:
            with contextlib.suppress(httpx.HTTPError):
                response = await http.get(f"{base}/api/v1/targets")
                if response.status_code == httpx.codes.OK:  # 503 "Service Unavailable" while it starts
                    targets = response.json()["data"]["activeTargets"]
                    if len(targets) == expected and all(t["health"] == "up" for t in targets):
                        return targets
            if time.monotonic() > deadline:
                return targets
            await asyncio.sleep(0.25)


async def query(base: str, promql: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{base}/api/v1/query", params={"query": promql})
    response.raise_for_status()
    return list(response.json()["data"]["result"])


async def test_prometheus_scrapes_every_service_and_the_runtime_and_all_targets_are_up(
    nc: Client, nats_url: str, namespace: str, tmp_path: Path
) -> None:
    home, workdir = tmp_path / "home", tmp_path / "prometheus"
    workdir.mkdir()
    locked = {"DUBAN_METRICS_REQUIRES_TOKEN": "true"}  # as deployed: Prometheus scrapes with its reader token
    async with isolated_stack(nats_url=nats_url, namespace=namespace, home=home, extra_env=locked) as stack:
        assert stack.api_tokens.path is not None
        reader = next(t for t, who in load_tokens(stack.api_tokens.path, None).items() if who.role is Role.READER)
        token_file = workdir / "prometheus.token"
        token_file.write_text(reader + "\n", encoding="utf-8")
        config = scrape_config({**stack.ports, "runtime": stack.runtime_port}, token_file)
        with prometheus(config, workdir) as base:
            targets = await targets_when_all_up(base, expected=6)
            lag_series = await query(base, "duban_event_time_lag_seconds")
            supervised = await query(base, 'duban_service_up{job="duban-runtime"} == 1')

    health = {(t["labels"]["job"], t["labels"]["service"]): (t["health"], t["lastError"]) for t in targets}
    assert health == {
        ("duban", "ingest"): ("up", ""),
        ("duban", "tasks"): ("up", ""),
        ("duban", "alerts"): ("up", ""),
        ("duban", "reports"): ("up", ""),
        ("duban", "console"): ("up", ""),
        ("duban-runtime", "runtime"): ("up", ""),
    }
    assert sorted(s["metric"]["service"] for s in lag_series) == sorted(PROCESSES)
    assert sorted(s["metric"]["service"] for s in supervised) == sorted(PROCESSES)


async def test_the_supervisors_series_keep_the_service_they_describe(tmp_path: Path) -> None:
    """`duban_service_up{service="tasks"}` must stay `service="tasks"` once scraped: the alerts
    DubanServiceDown/Restarting and the dashboard group by it. The runtime job's target label
    `service: runtime` would otherwise win and the scraped label become `exported_service`."""
    supervisor = SupervisorMetrics()
    for service in SERVICES:
        supervisor.up.labels(service=service).set(1)
    port = free_port()
    server, thread = start_http_server(port, "127.0.0.1", supervisor.registry)
    try:
        with prometheus(scrape_config({"runtime": port}), tmp_path) as base:
            await targets_when_all_up(base, expected=1)
            scraped = await query(base, "duban_service_up")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert sorted(s["metric"].get("service", "") for s in scraped) == sorted(SERVICES)
