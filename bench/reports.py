"""The annual report's aggregates over 1,000,000 progress events, against one plain GROUP BY.

The reports service's own schema (its real migrations) is filled in a scratch namespace with COPY:
1,000,000 progress facts and one submission fact each (as the service keeps them), the status
history tasks would have published (every target, task, section and the plan, daily), incidents and
their alerts. Then the service's real `ReportBuilder.build(year, as_of)` is timed against
`SELECT target_id, sum(value) FROM progress_facts GROUP BY target_id` over the same rows, on the
same engine. The tasks service's aggregation from the history (`load_facts` as of a date, what
`duban plan status --as-of` runs; progress batches read running summaries instead) is timed over
the same million rows in its own table.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import event, text

from duban.isolated import drop_schemas
from duban_contracts.plan import TargetKind, load_plan
from duban_contracts.reporting_units import load_reporting_units
from duban_kit.db import Database
from duban_reports.adapters import submission_counts
from duban_reports.app import MIGRATIONS as REPORTS_MIGRATIONS
from duban_reports.domain.periods import year
from duban_reports.usecases.builder import ReportBuilder, figures_instant
from duban_tasks.adapters import repository as tasks_repository
from duban_tasks.app import MIGRATIONS as TASKS_MIGRATIONS

YEAR_START = datetime(2022, 12, 31, 16, 0, tzinfo=UTC)  # 2023-01-01 00:00 in Asia/Shanghai
PLAIN_GROUP_BY = "SELECT target_id, sum(value) FROM progress_facts GROUP BY target_id"


@dataclass(frozen=True)
class QueryTime:
    statement: str
    seconds: float


@dataclass(frozen=True)
class ReportsResult:
    rows: int
    load_seconds: float
    builder_seconds: list[float]
    group_by_seconds: list[float]
    tasks_load_facts_seconds: list[float]
    slowest_builder_queries: list[QueryTime]
    builder_statements: int

    @property
    def builder(self) -> float:
        return statistics.median(self.builder_seconds)

    @property
    def group_by(self) -> float:
        return statistics.median(self.group_by_seconds)

    @property
    def tasks_load_facts(self) -> float:
        return statistics.median(self.tasks_load_facts_seconds)


def _copy_lines(
    conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...], lines: Iterator[str], chunk: int = 50_000
) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == chunk:
                copy.write("".join(batch))
                batch.clear()
        copy.write("".join(batch))


def _copy(conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY rows in text format, formatted in chunks (much faster than one write_row call per row)."""
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
            count += 1
            if count % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


@contextmanager
def _indexes_rebuilt(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> Iterator[None]:
    """Drop the secondary indexes of `schemas` for a bulk load and build them again (same definitions) after."""
    rows = conn.execute(
        """
        SELECT i.schemaname, i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = ANY(%s) AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = i.schemaname::regnamespace)
        """,
        (list(schemas),),
    ).fetchall()
    for schema, name, _definition in rows:
        conn.execute(f'DROP INDEX "{schema}"."{name}"')
    try:
        yield
    finally:
        for _schema, _name, definition in rows:
            conn.execute(definition)


class Facts:
    """A year of plausible facts: who reported what and when."""

    def __init__(self, rows: int, seed: int = 1) -> None:
        self.rows = rows
        self.rng = random.Random(seed)
        self.plan = load_plan()
        units = load_reporting_units().units
        self.schools = [u for u in units if u.kind == "school"]
        self.placed = list(self.plan.placed_targets())
        self.additive = [p.target for p in self.placed if p.target.kind is TargetKind.CUMULATIVE_COUNT]

    def progress_lines(self) -> Iterator[str]:
        """progress_facts rows as COPY text lines (formatted by hand: a million datetimes are slow)."""
        rng = self.rng.random
        targets = [(t.id, max(1.0, t.value / 5000)) for t in self.additive]
        schools = [(u.id, u.township or "\\N") for u in self.schools]
        days = [(date(2023, 1, 1) + timedelta(days=d)).isoformat() for d in range(365)]
        for n in range(self.rows):
            target_id, spread = targets[n % len(targets)]
            unit_id, township = schools[int(rng() * len(schools))]
            mode = "cumulative" if rng() < 0.05 else "increment"
            day, rest = divmod(int(rng() * 364 * 86400), 86400)
            hour, rest = divmod(rest, 3600)
            at = f"{days[day]} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}+00"
            value = round(rng() * spread, 3)
            yield f"00000000-0000-4000-8000-{n:012x}\t{target_id}\t{unit_id}\t{township}\t{mode}\t{value}\t{at}\t{at}\n"

    def load(self, url: str, reports_schema: str, tasks_schema: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn, _indexes_rebuilt(conn, (reports_schema, tasks_schema)):
            conn.execute(f'SET search_path TO "{reports_schema}"')
            _copy_lines(
                conn,
                "progress_facts",
                ("event_id", "target_id", "unit_id", "township", "mode", "value", "occurred_at", "recorded_at"),
                self.progress_lines(),
            )
            # One submission per progress event (every 33rd rejected), as the service keeps them.
            names = ", ".join(f"('{u.id}', '{u.name}')" for u in self.schools)
            conn.execute(
                f"""
                INSERT INTO submission_facts ({", ".join(self.submission_columns)})
                SELECT 's' || p.event_id, p.event_id, p.unit_id, n.name, p.township, 'progress',
                       CASE WHEN hashtext(p.event_id) % 33 = 0 THEN 'rejected' ELSE 'accepted' END,
                       CASE WHEN hashtext(p.event_id) % 33 = 0 THEN 'unknown_target' END,
                       p.occurred_at, p.occurred_at + (abs(hashtext(p.event_id)) % 12) * interval '1 day'
                FROM progress_facts p JOIN (VALUES {names}) AS n (id, name) ON n.id = p.unit_id
                """
            )
            _copy(conn, "status_history", self.status_columns, self._status_history())
            incidents = list(self._incidents())
            _copy(conn, "incident_facts", self.incident_columns, iter(incidents))
            _copy(conn, "alert_facts", self.alert_columns, self._alerts(incidents))
            conn.execute(
                f"""
                INSERT INTO "{tasks_schema}".progress
                    (event_id, target_id, source, mode, value, occurred_at, submission_id)
                SELECT event_id, target_id, unit_id, mode, value, occurred_at, 's' || event_id FROM progress_facts
                """
            )
            for table in ("progress_facts", "submission_facts", "status_history", "incident_facts", "alert_facts"):
                conn.execute(f'ANALYZE "{reports_schema}".{table}')
            conn.execute(f'ANALYZE "{tasks_schema}".progress')

    submission_columns = (
        "submission_id",
        "event_id",
        "unit_id",
        "unit_name",
        "township",
        "kind",
        "status",
        "code",
        "occurred_at",
        "received_at",
    )

    status_columns = ("event_id", "level", "ref", "status", "completion", "expected", "actual", "occurred_at")

    def _status_history(self) -> Iterator[tuple[Any, ...]]:
        refs = [("target", p.target.id) for p in self.placed]
        refs += [("task", str(t.no)) for _s, t in self.plan.tasks()]
        refs += [("section", s.no) for s in self.plan.sections]
        refs.append(("plan", self.plan.id))
        statuses = ("not_started", "on_track", "lagging", "done")
        n = 0
        for day in range(364):
            at = YEAR_START + timedelta(days=day, hours=12)
            for level, ref in refs:
                n += 1
                completion = min(1.0, day / 330 + self.rng.uniform(-0.05, 0.05))
                yield (
                    f"h{n}",
                    level,
                    ref,
                    statuses[min(3, int(completion * 4))],
                    completion,
                    day / 364,
                    completion * 100 if level == "target" else None,
                    at.isoformat(),
                )

    incident_columns = (
        "event_id",
        "unit_id",
        "unit_name",
        "township",
        "category",
        "disease",
        "grade",
        "cases",
        "deaths",
        "injuries",
        "class_name",
        "occurred_at",
        "reported_at",
    )

    def _incidents(self) -> Iterator[tuple[Any, ...]]:
        categories = ("溺水", "交通", "传染病", "食品安全", "欺凌", "其他")
        for n in range(3000):
            unit = self.schools[n % len(self.schools)]
            category = categories[n % len(categories)]
            at = YEAR_START + timedelta(minutes=self.rng.randrange(364 * 1440))
            yield (
                f"i{n}",
                unit.id,
                unit.name,
                unit.township,
                category,
                "流感" if category == "传染病" else None,
                "IV",
                1,
                int(n % 50 == 0),
                n % 3,
                None,
                at.isoformat(),
                (at + timedelta(minutes=30)).isoformat(),
            )

    alert_columns = (
        "alert_id",
        "rule",
        "severity",
        "state",
        "title",
        "summary",
        "labels",
        "unit_id",
        "count",
        "escalation_level",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "last_event_at",
    )

    def _alerts(self, incidents: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        for n, incident in enumerate(incidents):
            opened = datetime.fromisoformat(incident[11])
            labels = json.dumps({"rule": "safety_incident", "unit_id": incident[1], "incident_id": incident[0]})
            acknowledged = (opened + timedelta(hours=1)).isoformat() if n % 2 else None
            resolved = (opened + timedelta(days=1)).isoformat() if n % 4 == 1 else None
            yield (
                f"a{n}",
                "safety_incident",
                "critical" if incident[8] else "warning",
                "resolved" if resolved else ("acknowledged" if acknowledged else "firing"),
                "安全事故",
                "学生安全事故",
                labels,
                incident[1],
                1,
                0,
                opened.isoformat(),
                acknowledged,
                resolved,
                resolved or acknowledged or opened.isoformat(),
            )


class StatementTimer:
    """Times every statement an engine runs (first line of the SQL → seconds)."""

    def __init__(self, db: Database) -> None:
        self.times: dict[str, float] = defaultdict(float)
        self.count = 0
        self.enabled = False
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if self.enabled:
            self.count += 1
            self.times[" ".join(statement.split())[:160]] += time.perf_counter() - conn.info.pop("bench_started")

    def slowest(self, n: int = 5) -> list[QueryTime]:
        ordered = sorted(self.times.items(), key=lambda item: item[1], reverse=True)[:n]
        return [QueryTime(statement, seconds) for statement, seconds in ordered]


async def measure(
    url: str, namespace: str, *, rows: int = 1_000_000, repeat: int = 3, progress: Callable[[str], None] = print
) -> ReportsResult:
    reports_schema, tasks_schema = f"{namespace}_reports", f"{namespace}_tasks"
    reports_db = Database(url, schema=reports_schema, service="reports")
    tasks_db = Database(url, schema=tasks_schema, service="tasks")
    try:
        await reports_db.migrate(REPORTS_MIGRATIONS)
        await tasks_db.migrate(TASKS_MIGRATIONS)
        facts = Facts(rows)
        started = time.perf_counter()
        facts.load(url, reports_schema, tasks_schema)
        load_seconds = time.perf_counter() - started
        progress(f"  loaded {rows:,} progress events (and their submissions, statuses…) in {load_seconds:.1f}s")
        # The rows went in by COPY, past the service: count them as migration 0006 counts what it finds.
        started = time.perf_counter()
        async with reports_db.begin() as conn:
            counts = await conn.run_sync(submission_counts.rebuild)
        progress(f"  counted them per day ({counts:,} day counts) in {time.perf_counter() - started:.1f}s")
        units = load_reporting_units().units
        builder = ReportBuilder(reports_db, facts.plan, units)
        period = year(facts.plan.year)
        as_of = figures_instant(period, None)
        timer = StatementTimer(reports_db)
        await builder.build(period, as_of)  # warm the connection pool and the statement cache
        builder_seconds, group_by_seconds, load_facts_seconds = [], [], []
        for n in range(repeat):
            timer.enabled = n == 0
            started = time.perf_counter()
            await builder.build(period, as_of)
            builder_seconds.append(time.perf_counter() - started)
            timer.enabled = False
            async with reports_db.read() as conn:
                started = time.perf_counter()
                (await conn.execute(text(PLAIN_GROUP_BY))).all()
                group_by_seconds.append(time.perf_counter() - started)
            target_ids = [p.target.id for p in facts.placed]
            async with tasks_db.read() as conn:
                started = time.perf_counter()
                await tasks_repository.load_facts(conn, facts.plan, target_ids, as_of)
                load_facts_seconds.append(time.perf_counter() - started)
        result = ReportsResult(
            rows=rows,
            load_seconds=load_seconds,
            builder_seconds=builder_seconds,
            group_by_seconds=group_by_seconds,
            tasks_load_facts_seconds=load_facts_seconds,
            slowest_builder_queries=timer.slowest(),
            builder_statements=timer.count,
        )
        progress(
            f"  annual report data {result.builder * 1000:,.0f} ms vs plain GROUP BY {result.group_by * 1000:,.0f} ms"
            f" (×{result.builder / result.group_by:.1f}); tasks' load_facts over the same rows "
            f"{result.tasks_load_facts * 1000:,.0f} ms"
        )
        return result
    finally:
        await reports_db.dispose()
        await tasks_db.dispose()
        drop_schemas(url, f"{namespace}_")
