"""Spreadsheets parsed in worker processes, off the event loop, each within a time and a memory budget.

Reading a workbook is CPU work in Python (openpyxl); done on the event loop it stalls every other
request of the service, `/healthz` included, for as long as it takes. So `SheetPool` hands each file
to a small `ProcessPoolExecutor` (created by the app factory, shut down with the service):

- workers come from a fork server that has already imported the reader, so a new worker is ready
  in milliseconds and inherits nothing of the service (no sockets, no event loop); they run at a
  lower CPU priority (nice 10), so that on a busy machine the service's own loop is served first;
- each worker lowers its own address-space limit (`RLIMIT_AS`) to the memory budget: a file that
  needs more gets `MemoryError` in the worker, which is answered as `parse_memory_exceeded`;
- each parse runs under a `SIGALRM` timer set to the time budget, which interrupts it in the worker
  (`parse_time_exceeded`); should a worker not answer even a grace period later (stuck in C code),
  the pool's workers are killed and a fresh pool takes over;
- no more files are parsed at once than there are workers; others wait their turn before their
  time budget starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType

from duban_kit.workers import watch_owner

from ..domain.spreadsheets import FileLimits, FileRejection
from .inbound import PreparedFile, prepare_file

log = logging.getLogger(__name__)

#: Parsing uploads yields the CPU to the service's event loop (and its /healthz) on a busy machine.
WORKER_NICENESS = 10
#: How much longer than the budget the service waits for a worker before killing it.
KILL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class ParseBudget:
    seconds: float
    memory_bytes: int | None  # None: no limit (platforms without RLIMIT_AS)


class SheetPool:
    def __init__(self, limits: FileLimits, budget: ParseBudget, *, workers: int) -> None:
        self.limits = limits
        self.budget = budget
        self.workers = workers
        self._turns = asyncio.Semaphore(workers)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # "__main__" first, as by default: the server imports it once and its children need not.
            context.set_forkserver_preload(["__main__", __name__, "openpyxl"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.budget.memory_bytes, os.getpid()),
            )
        return self._pool

    async def start(self) -> None:
        """Start the workers now, so that the first upload does not wait for them."""
        loop = asyncio.get_running_loop()
        executor = self._executor()
        await asyncio.gather(*(loop.run_in_executor(executor, _ready) for _ in range(self.workers)))

    async def prepare(
        self,
        data: bytes,
        filename: str,
        *,
        default_kind: str | None = None,
        default_source: str | None = None,
        mapping: Sequence[str] = (),
    ) -> PreparedFile | FileRejection:
        """The file's rows as submissions (`inbound.prepare_file`), read in a worker within the budgets."""
        async with self._turns:
            loop = asyncio.get_running_loop()
            task = _Task(data, filename, self.limits, default_kind, default_source, tuple(mapping), self.budget.seconds)
            try:
                future = loop.run_in_executor(self._executor(), _read_in_worker, task)
                return await asyncio.wait_for(future, self.budget.seconds + KILL_GRACE_SECONDS)
            except TimeoutError:
                log.warning("sheet worker did not stop at its time budget; killing the pool", extra={"file": filename})
                self._kill()
                return _over_time(self.budget.seconds)
            except BrokenProcessPool:
                log.warning("sheet worker died; starting a new pool", extra={"file": filename})
                self._kill()
                return _failed()

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Python 3.14 has ProcessPoolExecutor.kill_workers(); until then the processes are reached directly.
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


# --- in the worker ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    data: bytes
    filename: str
    limits: FileLimits
    default_kind: str | None
    default_source: str | None
    mapping: tuple[str, ...]
    seconds: float


class _OutOfTime(BaseException):
    """Raised by the timer in the worker; a BaseException so that no `except Exception` swallows it."""


def _start_worker(memory_bytes: int | None, owner: int) -> None:
    os.nice(WORKER_NICENESS)
    watch_owner(owner)  # a killed service leaves no workers behind
    if memory_bytes is None:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _ready() -> bool:
    return True


def _read_in_worker(task: _Task) -> PreparedFile | FileRejection:
    try:
        with _alarm(task.seconds):
            return prepare_file(
                task.data,
                task.filename,
                task.limits,
                default_kind=task.default_kind,
                default_source=task.default_source,
                mapping=task.mapping,
            )
    except _OutOfTime:
        return _over_time(task.seconds)
    except MemoryError:
        return FileRejection(
            "parse_memory_exceeded",
            "读取该文件所需内存超过上限，已停止读取；请拆分后分批上传。",
            "Reading the file needs more memory than the limit allows; reading stopped. Split it.",
        )
    except Exception:  # a bug in the reader: refuse this file, keep the worker
        log.exception("reading a spreadsheet failed", extra={"file": task.filename})
        return _failed()


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """`_OutOfTime` raised in this process after `seconds`, unless the block ends first."""
    previous = signal.signal(signal.SIGALRM, _time_is_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _time_is_up(_signal: int, _frame: FrameType | None) -> None:
    raise _OutOfTime


def _failed() -> FileRejection:
    return FileRejection(
        "parse_failed",
        "读取文件时出错（文件可能过大或已损坏），已拒收。",
        "Reading the file failed (too large or damaged?); refused.",
    )


def _over_time(seconds: float) -> FileRejection:
    return FileRejection(
        "parse_time_exceeded",
        f"读取该文件超过 {seconds:g} 秒上限，已停止读取；请拆分后分批上传。",
        f"Reading the file took longer than the limit of {seconds:g} s; reading stopped. Split it.",
    )
