"""Use cases of the tasks service: record facts, re-judge what they touch, publish what changed.

Each consumed event type has one function that kit's unit of work calls with a batch's new events
(`consumes`): it stores the facts, re-evaluates the affected targets and their task, section and
plan, and publishes a `task.status_changed` for every status or completion that changed — all in the
unit's one transaction, so a crash loses or duplicates nothing. Writers take turns on the clock row.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import (
    ActivityRecorded,
    ClockTicked,
    Event,
    MeasurementRecorded,
    ProgressRecorded,
    TargetStatus,
    TaskStatusChanged,
    derived_event_id,
)
from duban_contracts.plan import PlacedTarget, Plan
from duban_contracts.subjects import Subjects
from duban_kit.db import Database, serialise
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import Apply, UnitHooks, UnitOfWork, Units

from ..adapters import repository as repo
from ..adapters import tables as t
from ..domain.status import Rollup, TargetState, Thresholds, evaluate, local_start, rollup

CHANGE_EPSILON = 1e-9


@dataclass(frozen=True)
class Judgement:
    """Every target's state at a time, with the roll-ups."""

    as_of: datetime
    targets: dict[str, TargetState]
    tasks: dict[int, Rollup]
    sections: dict[str, Rollup]
    plan: Rollup


@dataclass
class _Published:
    """The `status` table as this writer last committed it, at a clock generation.

    Held in memory so that a batch reads no status rows: valid for the next transaction exactly
    when that transaction finds the generation one higher (no other writer, and no failed
    transaction of this one, came in between)."""

    generation: int
    stored: dict[tuple[str, str], repo.StoredStatus]
    targets: dict[str, TargetState]  # every placed target, as stored (not started where never judged)


class Tracker(UnitHooks):
    """The tasks service's writer: kit's unit of work calls its appliers, and it is the unit's hooks —
    writers take turns (in this process, and on the clock row across replicas) and it keeps `_Published`."""

    def __init__(
        self,
        *,
        plan: Plan,
        db: Database,
        inbox: Inbox,
        outbox: Outbox,
        subjects: Subjects,
        metrics: ServiceMetrics,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.plan = plan
        self.db = db
        self.inbox = inbox
        self.outbox = outbox
        self.subjects = subjects
        self.metrics = metrics
        self.thresholds = thresholds or Thresholds()
        self._placed = {p.target.id: p for p in plan.placed_targets()}
        self._task_targets = {task.no: [x.id for x in task.targets] for _, task in plan.tasks()}
        self._section_targets = {
            section.no: [x.id for task in section.tasks for x in task.targets] for section in plan.sections
        }
        self._published: _Published | None = None
        self._generation: int | None = None  # the clock generation of the transaction under way
        self._now: datetime | None = None  # … and its event-time clock
        self._saved: list[dict[str, Any]] = []  # status rows it wrote
        self._turn = asyncio.Lock()
        self.units = Units(
            "tasks",
            self.consumes(),
            db=db,
            inbox=inbox,
            outbox=outbox,
            subjects=subjects,
            metrics=metrics,
            hooks=self,
        )
        # In-process entry points (tests, benchmarks): a batch through the whole unit of work.
        self.record_progress = self.units.batch("progress.recorded")
        self.record_activities = self.units.batch("activity.recorded")
        self.record_measurements = self.units.batch("measurement.recorded")
        self.tick = self.units.batch("clock.ticked")

    async def load_plan(self) -> None:
        async with self.db.begin() as conn:
            await serialise(conn, "duban-tasks-load-plan")  # replicas start together
            await repo.save_plan(conn, self.plan, datetime.now(UTC))
            await repo.ensure_clock(conn, local_start(self.plan.year_start))

    # --- the unit of work's hooks ----------------------------------------------------------------

    def serialised(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._turn

    async def opened(self, uow: UnitOfWork) -> None:
        # A repeat in the batch was applied before, so the clock is already past it: the max over
        # the batch as delivered is the max over its new events.
        turn = await repo.take_clock(uow.conn, max((e.occurred_at for e in uow.offered), default=None))
        self._generation, self._now, self._saved = turn.generation, turn.now, []

    def rolled_back(self) -> None:
        self._published = None

    def committed(self, uow: UnitOfWork) -> None:
        """This writer's transaction committed: what it wrote is what the table now holds."""
        generation, published = self._generation, self._published
        if published is None or generation is None or published.generation != generation - 1:
            self._published = None
            return
        for row in self._saved:
            level, ref = row["level"], row["ref"]
            kept = repo.StoredStatus(row["status"], row["completion"], row["expected"], row["actual"], row["revision"])
            published.stored[(level, ref)] = kept
            if level == "target" and ref in self._placed:
                published.targets[ref] = _state_from_stored(self._placed[ref], kept)
        published.generation = generation
        self._saved = []

    # --- the events it consumes (kit's unit of work calls these with the new events of a batch) ---

    def consumes(self) -> dict[str, Apply]:
        return {
            "progress.recorded": self.progress_recorded,
            "activity.recorded": self.activity_recorded,
            "measurement.recorded": self.measurement_recorded,
            "clock.ticked": self.clock_ticked,
        }

    async def progress_recorded(self, uow: UnitOfWork, events: Sequence[ProgressRecorded]) -> None:
        rows = [
            {
                "event_id": e.event_id,
                "target_id": e.target_id,
                "source": e.unit.id,
                "mode": e.mode.value,
                "value": e.value,
                "occurred_at": e.occurred_at,
                "submission_id": e.submission_id,
            }
            for e in events
        ]
        await repo.insert_rows(uow.conn, t.progress, rows)
        summarised = await repo.summarise_progress(uow.conn, rows)
        await self._judge_after(uow, events, summarised=summarised)

    async def activity_recorded(self, uow: UnitOfWork, events: Sequence[ActivityRecorded]) -> None:
        rows = [
            {
                "event_id": e.event_id,
                "target_id": e.target_id,
                "source": e.unit.id,
                "activity": e.activity,
                "occurred_at": e.occurred_at,
            }
            for e in events
            if e.target_id
        ]
        await repo.insert_rows(uow.conn, t.activities, rows)
        await self._judge_after(uow, events)

    async def measurement_recorded(self, uow: UnitOfWork, events: Sequence[MeasurementRecorded]) -> None:
        rows = [
            {
                "event_id": e.event_id,
                "target_id": e.target_id,
                "group_key": f"{e.unit.id}|{e.class_name or ''}",
                "value": e.value,
                "occurred_at": e.occurred_at,
            }
            for e in events
            if e.target_id
        ]
        await repo.insert_rows(uow.conn, t.measurements, rows)
        await repo.summarise_measurements(uow.conn, rows)
        await self._judge_after(uow, events)

    async def clock_ticked(self, uow: UnitOfWork, events: Sequence[ClockTicked]) -> None:
        await self._judge_after(uow, events, everything=True)

    async def _judge_after(
        self,
        uow: UnitOfWork,
        events: Sequence[Any],
        *,
        everything: bool = False,
        summarised: dict[str, list[repo.SourceFigures]] | None = None,
    ) -> None:
        """Stage the status changes of what the batch touched, as of the clock (moved by the batch)."""
        now = self._now
        touched = list(self._placed) if everything else [getattr(e, "target_id", None) for e in events]
        targets = list(dict.fromkeys(tid for tid in touched if tid in self._placed))
        uow.publish(await self._rejudge(uow.conn, targets, now, on_the_clock=everything, summarised=summarised))

    async def _rejudge(
        self,
        conn: AsyncConnection,
        target_ids: list[str],
        now: datetime | None,
        *,
        on_the_clock: bool = False,
        summarised: dict[str, list[repo.SourceFigures]] | None = None,
    ) -> list[Event]:
        """Judge `target_ids` (and their task, section and plan) at `now`; the changes to announce.

        A change is a new status or completion. On a clock tick a new 序时进度 (expected) is one
        too: the day's last word then always carries the day's figure, whichever of its reports
        were judged together before — so what reports show as of a date does not depend on batching.
        """
        if not target_ids or now is None:
            return []
        published = await self._current(conn)
        stored = published.stored
        # No fact is after now, so the kept summaries are the facts.
        facts = await repo.load_facts(conn, self.plan, target_ids, now, current=True, summarised=summarised)
        fresh_states = {
            tid: evaluate(self._placed[tid], facts[tid], now, self.plan.year_start, self.thresholds)
            for tid in target_ids
        }
        states = published.targets | fresh_states
        touched_tasks = sorted({self._placed[tid].task.no for tid in target_ids})
        touched_sections = sorted({self._placed[tid].section.no for tid in target_ids})
        candidates: list[tuple[str, str, Any]] = [("target", tid, fresh_states[tid]) for tid in target_ids]
        candidates += [("task", str(no), rollup([states[x] for x in self._task_targets[no]])) for no in touched_tasks]
        candidates += [
            ("section", no, rollup([states[x] for x in self._section_targets[no]])) for no in touched_sections
        ]
        candidates.append(("plan", self.plan.id, rollup([states[x] for x in self._placed])))
        changes: list[Event] = []
        rows: list[dict[str, Any]] = []
        for level, ref, state in candidates:
            before = stored.get((level, ref))
            if before is not None and _unchanged(before, state, with_expected=on_the_clock):
                continue
            revision = (before.revision if before else 0) + 1
            rows.append(
                {
                    "level": level,
                    "ref": ref,
                    "status": state.status.value,
                    "completion": state.completion,
                    "expected": state.expected,
                    "actual": getattr(state, "actual", None),
                    "as_of": now,
                    "revision": revision,
                }
            )
            changes.append(self._status_changed(level, ref=ref, state=state, before=before, now=now, revision=revision))
        await repo.save_status(conn, rows, set(stored))
        self._saved += rows
        return changes

    async def _current(self, conn: AsyncConnection) -> _Published:
        """The stored statuses: from memory while no one else wrote since, else read again."""
        generation, published = self._generation, self._published
        if published is not None and generation is not None and published.generation == generation - 1:
            return published
        stored = await repo.load_status(conn)
        targets = {tid: self._not_started(placed) for tid, placed in self._placed.items()}
        for (level, ref), row in stored.items():
            if level == "target" and ref in self._placed:
                targets[ref] = _state_from_stored(self._placed[ref], row)
        published = _Published(-1 if generation is None else generation - 1, stored, targets)
        self._published = published if generation is not None else None
        return published

    @staticmethod
    def _not_started(placed: PlacedTarget) -> TargetState:
        target = placed.target
        return TargetState(target.id, TargetStatus.NOT_STARTED, 0.0, 0.0, None, target.value, target.unit, target.kind)

    def _roll_up(self, states: dict[str, TargetState], now: datetime) -> Judgement:
        tasks: dict[int, Rollup] = {}
        sections: dict[str, Rollup] = {}
        for section in self.plan.sections:
            section_states: list[TargetState] = []
            for task in section.tasks:
                task_states = [states[target.id] for target in task.targets]
                tasks[task.no] = rollup(task_states)
                section_states += task_states
            sections[section.no] = rollup(section_states)
        return Judgement(now, states, tasks, sections, rollup(list(states.values())))

    def _status_changed(
        self,
        level: str,
        *,
        ref: str,
        state: TargetState | Rollup,
        before: repo.StoredStatus | None,
        now: datetime,
        revision: int,
    ) -> TaskStatusChanged:
        title, section, task, responsible, due, target_value, unit = self._describe(level, ref)
        previous = TargetStatus(before.status) if before else None
        return TaskStatusChanged(
            event_id=derived_event_id("task.status_changed", level, ref, revision),
            occurred_at=now,
            recorded_at=datetime.now(UTC),
            source="tasks",
            level=level,
            ref=ref,
            title=title,
            section=section,
            task=task,
            status=state.status,
            previous_status=previous,
            completion=state.completion,
            expected=state.expected,
            actual=state.actual if isinstance(state, TargetState) else None,
            target_value=target_value,
            measure_unit=unit,
            responsible=responsible,
            due=due,
            revision=revision,
        )

    def _describe(
        self, level: str, ref: str
    ) -> tuple[str, str | None, int | None, list[str], Any, float | None, str | None]:
        if level == "target":
            p: PlacedTarget = self._placed[ref]
            due = datetime.combine(p.due, datetime.min.time(), tzinfo=UTC)
            return (
                p.target.metric,
                p.section.no,
                p.task.no,
                p.target.responsible or p.task.responsible,
                due,
                p.target.value,
                p.target.unit,
            )
        if level == "task":
            for section, task in self.plan.tasks():
                if str(task.no) == ref:
                    return task.title, section.no, task.no, task.responsible, None, None, None
        if level == "section":
            for section in self.plan.sections:
                if section.no == ref:
                    return section.title, section.no, None, [], None, None, None
        return self.plan.title, None, None, [], None, None, None

    # --- queries ---------------------------------------------------------------------------

    async def judge(self, as_of: datetime | None) -> Judgement:
        """Every target's state as of a time (default: the service's event-time now)."""
        async with self.db.read() as conn:
            clock = await repo.clock_now(conn)
            now = as_of or clock or datetime.combine(self.plan.year_start, datetime.min.time(), tzinfo=UTC)
            # At or after the clock no stored fact is later than `now`: the kept summaries are the
            # facts. Unless a writer moved the clock meanwhile (facts after `now` may have been
            # read): then from the history, as for any earlier time.
            current = clock is not None and now >= clock
            facts = await repo.load_facts(conn, self.plan, list(self._placed), now, current=current)
            if current and await repo.clock_now(conn) != clock:
                facts = await repo.load_facts(conn, self.plan, list(self._placed), now)
        states = {
            tid: evaluate(placed, facts[tid], now, self.plan.year_start, self.thresholds)
            for tid, placed in self._placed.items()
        }
        return self._roll_up(states, now)


def _unchanged(before: repo.StoredStatus, state: TargetState | Rollup, *, with_expected: bool) -> bool:
    return (
        before.status == state.status.value
        and abs(before.completion - state.completion) < CHANGE_EPSILON
        and (not with_expected or abs(before.expected - state.expected) < CHANGE_EPSILON)
    )


def _state_from_stored(placed: PlacedTarget, row: repo.StoredStatus) -> TargetState:
    return TargetState(
        target_id=placed.target.id,
        status=TargetStatus(row.status),
        completion=row.completion,
        expected=row.expected,
        actual=row.actual,
        target_value=placed.target.value,
        unit=placed.target.unit,
        kind=placed.target.kind,
    )
