"""The service's own database: an async SQLAlchemy engine on SQLite or PostgreSQL, and migrations.

Each service owns its tables: on SQLite its own file, on PostgreSQL its own schema (selected with
`search_path`, so table definitions carry no schema and the same migrations serve both).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import (
    Enum,
    Select,
    String,
    Table,
    Text,
    TypeDecorator,
    any_,
    bindparam,
    case,
    cast,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .faults import faults, in_consumer_batch
from .metrics import ServiceMetrics


def async_url(url: str) -> str:
    """Plain URLs (`postgresql://`, `sqlite:///`) to the async drivers duban uses."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use a sqlite:// or postgresql:// URL")


def is_transient(error: BaseException) -> bool:
    """Errors that pass when the database comes back: retry later rather than give up."""
    if isinstance(error, OperationalError | SAInterfaceError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, ConnectionError | TimeoutError | OSError)


class Database:
    def __init__(self, url: str, *, schema: str, service: str, metrics: ServiceMetrics | None = None) -> None:
        self.url = url
        self.service = service
        self.schema = schema
        self.metrics = metrics
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self.engine: AsyncEngine = self._create_engine()
        # SQLite has one writer; serialise this process's write transactions instead of
        # letting them fail with "database is locked".
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    def _create_engine(self) -> AsyncEngine:
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs = {"async_creator": _loop_thread_sqlite(database or ":memory:")}
        else:
            kwargs["connect_args"] = {"options": f"-csearch_path={self.schema}", "connect_timeout": 5}
            kwargs["pool_size"] = 5
            kwargs["max_overflow"] = 5
        engine = create_async_engine(async_url(self.url), **kwargs)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(engine.sync_engine, "connect", _binary_arrays)
            _ping_when_idle(engine)
        if self.metrics is not None:
            _instrument(engine, self.metrics)
        return engine

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block exits normally, rolled back otherwise."""
        consumer = in_consumer_batch.get()
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            async with self.engine.begin() as conn:
                yield conn
                if consumer:
                    faults().crash_at("before_commit")
        if consumer:
            faults().crash_at("after_commit")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def migrate(self, script_location: Path) -> None:
        """Bring the schema to the newest migration (safe when replicas start together)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                lock_key = zlib.crc32(f"duban-migrate-{self.schema}".encode())
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            await conn.run_sync(_upgrade, script_location)

    async def migrate_apart(self, script_location: Path, *, log_level: str = "INFO") -> None:
        """`migrate`, in a short-lived child process (`python -m duban_kit.migrate`): alembic, mako and pygments
        (about 11 MiB) are never loaded into the long-running service. The child logs as the service does,
        to the same stderr; it tells why it failed on stdout. The URL travels in its environment, not on its
        command line, where `ps` would show a password."""
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "duban_kit.migrate",
            self.service,
            self.schema,
            str(script_location),
            log_level,
            env={**os.environ, MIGRATE_URL_VARIABLE: self.url},
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,  # a Ctrl+C reaches the service, which stops the child (below), not both at once
        )
        try:
            said, _ = await child.communicate()
        except BaseException:  # stopping while it migrates: it stops too (its transaction rolls back)
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
            raise
        if child.returncode != 0:
            why = said.decode(errors="replace").strip() or "it said nothing (killed?)"
            where = f"migrating {self.service}'s database ({script_location})"
            raise MigrationFailed(f"{where} failed with exit code {child.returncode}: {why}")

    async def drop_schema(self) -> None:
        """Remove everything this service stored (tests and `duban reset`)."""
        if self.is_sqlite:
            await self.engine.dispose()
            database = make_url(self.url).database
            if database and database != ":memory:":
                await asyncio.to_thread(_remove_sqlite_files, database)
            return
        async with self.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _remove_sqlite_files(database: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)


#: How `migrate_apart` hands the database URL to its child.
MIGRATE_URL_VARIABLE = "DUBAN_MIGRATE_DATABASE_URL"


class MigrationFailed(RuntimeError):
    """The schema could not be brought to the newest migration (the child said why)."""


def _upgrade(connection: Connection, script_location: Path) -> None:
    from alembic import command  # here: a service migrating apart never loads alembic (see `migrate_apart`)
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class _LoopThreadSqlite(aiosqlite.Connection):
    """aiosqlite's connection, its calls run where they are awaited instead of on a thread of its own.

    aiosqlite hands every call to a worker thread and back (a queue, a thread switch and a wake-up
    of the event loop each way): for the small statements of a service's unit of work that hand-off
    cost more than the statement. SQLite calls are short and local, the service's write transactions
    are already one at a time (`Database._write_lock`) and WAL readers never wait for the writer, so
    running them on the event loop thread blocks it no longer than a statement takes. The simulated
    year replays some 12 s faster this way (of ~95).
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()

    async def _connect(self) -> aiosqlite.Connection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def stop(self) -> None:  # no worker thread to stop, nothing to wait for
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def _loop_thread_sqlite(database: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    def connect() -> sqlite3.Connection:
        # check_same_thread off: the pool may finalise a connection from another thread.
        return sqlite3.connect(database, timeout=30, check_same_thread=False)

    async def create() -> aiosqlite.Connection:
        return await _LoopThreadSqlite(connect, iter_chunk_size=64)

    return create


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; synchronous=FULL makes a commit durable before we ack.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


#: A pooled connection unused this long is checked with `SELECT 1` before it is handed out. Busier
#: ones are not: a ping on every checkout (`pool_pre_ping`) cost 0.15–0.2 ms of CPU per transaction,
#: a fifth of a small one. A connection that breaks while in use fails its transaction, which the
#: consumers retry (the error is transient) and which SQLAlchemy answers by emptying the pool.
IDLE_PING_SECONDS = 2.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as error:  # the pool drops it and hands out another (or a new one)
            raise DisconnectionError(
                f"a pooled connection idle for {time.monotonic() - idle_since:.0f}s is gone"
            ) from error


def _binary_arrays(dbapi_connection: Any, _record: Any) -> None:
    """Send Python lists as binary arrays: psycopg's text format escapes every quote of every element
    with a regular expression — 50 JSON documents took 1.1 ms to dump as text, 15 µs as binary, more
    than the rest of an alerts batch (the elements' own types and the SQL casts are the same)."""
    dbapi_connection.driver_connection.adapters.register_dumper(list, ListBinaryDumper)


def _instrument(engine: AsyncEngine, metrics: ServiceMetrics) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        conn.info.setdefault("duban_query_start", []).append(time.perf_counter())

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        started = conn.info["duban_query_start"].pop()
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "OTHER"
        metrics.db_duration.labels(operation=operation).observe(time.perf_counter() - started)


async def serialise(conn: AsyncConnection, name: str) -> None:
    """Take a transaction-scoped lock named `name` (PostgreSQL; SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})


def moved_forward(column: Any, moment: datetime) -> Any:
    """An UPDATE's value for `column`: `moment` where that moves it forward (a NULL takes it), else as it is.

    `moment` is converted as the column converts its values (an offset time to UTC on SQLite, which keeps
    no offset), so the comparison is between like values."""
    at = literal(moment, column.type)
    return case((or_(column.is_(None), column < at), at), else_=column)


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing` / `on_conflict_do_update`."""
    if conn.dialect.name == "postgresql":
        return postgresql_insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite_insert(table)
    raise ValueError(f"ON CONFLICT is not implemented for {conn.dialect.name}")  # pragma: no cover


def one_of(conn: AsyncConnection, column: Any, values: Iterable[Any]) -> Any:
    """`column IN values`. On PostgreSQL as `column = ANY(array)`: one parameter however many values, so a
    statement's text is the same for every batch — SQLAlchemy and psycopg convert it once and PostgreSQL
    runs it prepared — where `IN` sends a parameter per value, a new text for each count (and psycopg does
    not even cache one with more than 50 parameters)."""
    values = list(values)
    if conn.dialect.name != "postgresql" or isinstance(column.type, TypeDecorator):
        return column.in_(values)
    array = _array_of(column.type)
    return column == any_(cast(bindparam(None, values, type_=array), array))


async def insert_all(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each with the same columns). On PostgreSQL in one statement over one array per column
    (`INSERT … SELECT FROM unnest(…)`): a statement per row, as executemany sends, costs the service far
    more CPU per row."""
    if not rows:
        return
    names = list(rows[0])
    if not _arrays_fit(conn, table, names):
        await conn.execute(insert(table), list(rows))
        return
    await conn.execute(insert(table).from_select(names, _unnested(table, names)), _by_column(rows, names))


def _arrays_fit(conn: AsyncConnection, table: Table, names: Sequence[str]) -> bool:
    """Whether the rows can travel as arrays: on PostgreSQL, unless a column's own type (a TypeDecorator)
    stores a string of limited length — its values must go through it, and its array would be cast to
    varchar(n)[], which silently cuts a longer value where the column refuses it."""
    if conn.dialect.name != "postgresql":
        return False
    for name in names:
        type_ = table.c[name].type
        if isinstance(type_, TypeDecorator) and _limited_string(type_.impl):
            return False
    return True


def _unnested(table: Table, names: Sequence[str]) -> Select[Any]:
    arrays = ((f"all_{name}", _array_of(table.c[name].type)) for name in names)
    return select(*(func.unnest(cast(bindparam(key, type_=array), array)) for key, array in arrays))


def _array_of(column_type: Any) -> ARRAY[Any]:
    """Strings as text[], never varchar(n)[]: a cast to varchar(n) silently cuts a longer value, where the
    column itself refuses it (StringDataRightTruncation)."""
    return ARRAY(Text()) if _limited_string(column_type) else ARRAY(column_type)


def _limited_string(column_type: Any) -> bool:
    return isinstance(column_type, String) and not isinstance(column_type, Enum) and column_type.length is not None


def _by_column(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {f"all_{name}": [row[name] for row in rows] for name in names}


async def insert_missing(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows whose `keys` do not exist yet; leave existing ones alone (safe between replicas)."""
    await inserted(conn, table, rows, keys, returning=None)


async def inserted(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    returning: str | None,
) -> list[Any]:
    """`insert_missing`, and the `returning` column of the rows it did insert."""
    if not rows:
        return []
    names = list(rows[0])
    if _arrays_fit(conn, table, names):
        statement = postgresql_insert(table).from_select(names, _unnested(table, names))
        parameters: Any = _by_column(rows, names)
    else:
        statement, parameters = dialect_insert(conn, table), list(rows)
    statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    if returning is None:
        await conn.execute(statement, parameters)
        return []
    return list((await conn.execute(statement.returning(table.c[returning]), parameters)).scalars())


async def upsert(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, or update the ones whose `keys` already exist (ON CONFLICT, SQLite and PostgreSQL).

    A key given twice ends as its last row, as if the rows were written one by one (on PostgreSQL
    they go as column arrays in one statement, which may not touch a row twice)."""
    if not rows:
        return
    names = list(rows[0])
    parameters: Any
    if _arrays_fit(conn, table, names):
        last = {tuple(row[key] for key in keys): row for row in rows}
        statement = postgresql_insert(table).from_select(names, _unnested(table, names))
        parameters = _by_column(list(last.values()), names)
    else:
        statement, parameters = dialect_insert(conn, table), list(rows)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={c: getattr(excluded, c) for c in names if c not in keys}
    )
    await conn.execute(statement, parameters)
