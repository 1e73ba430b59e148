"""The four services and the console as real processes, isolated per test (the fixture the benchmarks use too)."""

from __future__ import annotations

from duban.isolated import isolated_stack as running_stack

__all__ = ["running_stack"]
