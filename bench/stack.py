"""Looking at a running `Stack` (`duban.isolated.isolated_stack` starts it): pids, memory, CPU, consumers, metrics."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from nats.aio.client import Client
from prometheus_client.parser import text_string_to_metric_families

from duban.runtime import Stack
from duban_contracts.topology import ConsumerSpec


def service_pids(stack: Stack) -> dict[str, int]:
    assert stack.supervisor is not None
    return {name: s.pid for name, s in stack.supervisor.services.items() if s.pid is not None}


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class ConsumerSample:
    at: float
    acked: int
    outstanding: int


@dataclass
class ConsumerTrace:
    """How one durable consumer worked through its backlog, sampled from consumer info."""

    spec: ConsumerSpec
    samples: list[ConsumerSample] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.spec.service

    def processed(self) -> int:
        return self.samples[-1].acked - self.samples[0].acked if self.samples else 0

    def busy_span(self) -> tuple[float, float] | None:
        """From the first sample with work outstanding to the first one with none left after the last busy one."""
        busy = [n for n, sample in enumerate(self.samples) if sample.outstanding > 0]
        if not busy:
            return None
        end = min(busy[-1] + 1, len(self.samples) - 1)
        return self.samples[busy[0]].at, self.samples[end].at


async def sample_consumers(nc: Client, traces: list[ConsumerTrace]) -> None:
    js = nc.jetstream()
    for trace in traces:
        info = await js.consumer_info(trace.spec.stream, trace.spec.durable)
        acked = info.ack_floor.consumer_seq if info.ack_floor and info.ack_floor.consumer_seq else 0
        outstanding = (info.num_pending or 0) + (info.num_ack_pending or 0)
        trace.samples.append(ConsumerSample(time.perf_counter(), acked, outstanding))


async def scrape(url: str) -> dict[str, float]:
    """A service's /metrics, flattened: `name{label="value",…}` → value."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(url)).text
    flat: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            flat[f"{sample.name}{{{labels}}}"] = sample.value
    return flat


def total(metrics: dict[str, float], name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(
        value
        for key, value in metrics.items()
        if key.split("{", 1)[0] == name and all(w in key.split("{", 1)[1] for w in wanted)
    )
