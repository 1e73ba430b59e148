"""What the numbers were measured on, and how busy the machine was meanwhile."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


def _cpuinfo(key: str) -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return "?"


def _meminfo_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _os_name() -> str:
    path = Path("/etc/os-release")
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.system()


def _hypervisor() -> str:
    flags = _cpuinfo("flags").split()
    return "virtual machine (hypervisor flag set)" if "hypervisor" in flags else "bare metal"


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    os: str
    kernel: str
    python: str
    virtualisation: str

    @classmethod
    def describe(cls) -> Machine:
        return cls(
            cpu=f"{_cpuinfo('model name')} ({_cpuinfo('cpu MHz')} MHz)",
            cores=os.cpu_count() or 0,
            memory_gib=_meminfo_gib(),
            os=_os_name(),
            kernel=platform.release(),
            python=sys.version.split()[0],
            virtualisation=_hypervisor(),
        )


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class _Process(NamedTuple):
    parent: int
    comm: str
    cpu: float  # CPU seconds so far
    started: float  # seconds since boot
    reaped_cpu: float  # CPU seconds of the children it has waited for (gone, and counted nowhere else)


def _processes() -> dict[int, _Process]:
    """pid → what /proc/<pid>/stat says of it."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, _Process] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        reaped = (int(fields[13]) + int(fields[14])) / ticks
        found[int(entry.name)] = _Process(int(fields[1]), comm, cpu, int(fields[19]) / ticks, reaped)
    return found


def _own_cpu() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _uptime() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def _descendants(root: int, processes: dict[int, _Process]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.parent, []).append(pid)
    tree, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return tree


@dataclass(frozen=True)
class PhaseLoad:
    """CPU use during a phase, in cores (CPU-seconds per wall second)."""

    busy_share: float  # of all CPUs, every process
    benchmark_cores: float  # this benchmark's processes (client, nats-server, services)
    postgres_cores: float  # PostgreSQL backends (shared with anything else using that server)
    other_cores: float  # everything else: all busy CPU time minus the two above (kernel time included)
    load_average: float  # 1-minute load average when the phase started


def _used(before: _Process | None, now: _Process, since_boot: float) -> float:
    """CPU seconds `now` used since the phase began (0 for a process older than the phase not seen then)."""
    if before is not None and before.started == now.started:
        return now.cpu - before.cpu
    return now.cpu if now.started >= since_boot - 1 else 0.0


def _postgres_cpu(before: dict[int, _Process], now: dict[int, _Process], since_boot: float) -> float:
    """CPU seconds PostgreSQL used in the phase: its live processes, plus the backends that ended in it.

    A backend ends when its connection closes — the services' pools close as the phase stops them — and its
    CPU then goes to the postmaster's count of reaped children, whole: what it used before the phase too."""
    postgres = {pid: process for pid, process in now.items() if process.comm.startswith("postgres")}
    used = sum(max(0.0, _used(before.get(pid), process, since_boot)) for pid, process in postgres.items())
    for pid, process in postgres.items():
        parent = before.get(pid)
        if process.parent in postgres or parent is None or parent.started != process.started:
            continue  # not the postmaster, or not the one seen when the phase began
        ended = [
            old
            for old_pid, old in before.items()
            if old.parent == pid and old_pid not in now and old.comm.startswith("postgres")
        ]
        used += process.reaped_cpu - parent.reaped_cpu - sum(old.cpu for old in ended)
    return max(0.0, used)


class PostgresMeter:
    """CPU seconds PostgreSQL (every backend, shared with whatever else uses the server) has used since made."""

    def __init__(self) -> None:
        self._before = _processes()
        self._since_boot = _uptime()

    def used(self) -> float:
        return _postgres_cpu(self._before, _processes(), self._since_boot)


@dataclass
class BusyMeter:
    """How busy the machine was during each phase, and who kept it busy."""

    phases: dict[str, PhaseLoad] = field(default_factory=dict)
    _jiffies: tuple[int, int] = (0, 0)
    _processes: dict[int, _Process] = field(default_factory=dict)
    _since_boot: float = 0.0
    _own: float = 0.0
    _phase: str = ""
    _wall: float = 0.0
    _load: float = 0.0

    def start(self, phase: str) -> None:
        self._phase = phase
        self._load = os.getloadavg()[0]
        self._jiffies = _cpu_jiffies()
        self._processes = _processes()
        self._own = _own_cpu()
        self._since_boot = _uptime()
        self._wall = time.perf_counter()

    def stop(self) -> None:
        wall = time.perf_counter() - self._wall
        busy, total = _cpu_jiffies()
        now = _processes()
        mine = _descendants(os.getpid(), now) - {os.getpid()}
        # This process and the children it has reaped (services stopped in the phase), plus live descendants.
        spent = {"benchmark": _own_cpu() - self._own, "postgres": _postgres_cpu(self._processes, now, self._since_boot)}
        for pid, process in now.items():
            if pid in mine:
                spent["benchmark"] += max(0.0, _used(self._processes.get(pid), process, self._since_boot))
        span = total - self._jiffies[1]
        share = (busy - self._jiffies[0]) / span if span else float("nan")
        cores = os.cpu_count() or 1
        self.phases[self._phase] = PhaseLoad(
            busy_share=share,
            benchmark_cores=spent["benchmark"] / wall,
            postgres_cores=spent["postgres"] / wall,
            other_cores=max(0.0, share * cores - (spent["benchmark"] + spent["postgres"]) / wall),
            load_average=self._load,
        )
