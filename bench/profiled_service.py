"""Run one duban service as `python -m duban_<service>` does, profiled from SIGUSR1 until it exits.

    python -m bench.profiled_service tasks bench/out/…/tasks.prof

Start-up (imports, migrations) stays out of the profile: the benchmark sends SIGUSR1 once the
service is ready, then loads it, then stops it with SIGTERM; the profile is written on the way out.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def main() -> None:
    service, out = sys.argv[1], sys.argv[2]
    profiler = cProfile.Profile()

    def start(_signum: int, _frame: FrameType | None) -> None:
        profiler.enable()

    signal.signal(signal.SIGUSR1, start)
    sys.argv = [f"duban_{service}"]
    try:
        runpy.run_module(f"duban_{service}", run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
