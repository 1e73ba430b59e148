"""Publishing submissions into the inbound stream, as an integration would (HTTP upload, `duban submit`).

A spreadsheet becomes submissions in `prepare_file`: read, each row encoded as the JSON it will be
published as, all of it compact (one bytes object of JSON lines) so that it crosses from a parsing
worker to the service in a moment — a list of 30,000 row dictionaries takes a tenth of a second to
unpickle, with the interpreter lock held. Publishing lets the event loop serve other requests
between batches.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from nats.js import JetStreamContext

from duban_contracts.inbound import FILE_ID_HEADER, ROW_HEADER, SUBMISSION_ID_HEADER
from duban_contracts.subjects import Subjects

from ..domain.spreadsheets import FileLimits, FileRejection, Table, read_table

#: Publishing yields to the event loop after this many messages (a few milliseconds of work).
YIELD_EVERY = 100


@dataclass(frozen=True)
class PublishSummary:
    published: int
    duplicates: int


def content_id(item: object) -> str:
    """An id for a submission sent without one: the hash of its canonical JSON."""
    canonical = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def encode(body: Mapping[str, object]) -> bytes:
    """A submission as it is published: JSON, Chinese as written, dates as text."""
    return json.dumps(body, ensure_ascii=False, default=str).encode()


async def publish_submissions(
    js: JetStreamContext,
    subjects: Subjects,
    items: Iterable[tuple[str, Mapping[str, object], dict[str, str]]],
    *,
    timeout: float = 30.0,
    subject: str | None = None,
) -> PublishSummary:
    """Publish (id, body, extra headers) triples, pipelined; every one acknowledged or an exception.

    On the shared subject, or on `subject` (an integration's own, `subjects.integration_submission`).
    """
    encoded = ((submission_id, encode(body), headers) for submission_id, body, headers in items)
    return await publish_encoded(js, subjects, encoded, timeout=timeout, subject=subject)


async def publish_encoded(
    js: JetStreamContext,
    subjects: Subjects,
    items: Iterable[tuple[str, bytes, dict[str, str]]],
    *,
    timeout: float = 30.0,
    subject: str | None = None,
) -> PublishSummary:
    """Publish (id, JSON payload, extra headers) triples as `publish_submissions` does, yielding to the
    loop every `YIELD_EVERY`; every one acknowledged or an exception."""
    futures = []
    for count, (submission_id, payload, headers) in enumerate(items, start=1):
        futures.append(
            await js.publish_async(
                subject or subjects.inbound_submission,
                payload,
                headers={SUBMISSION_ID_HEADER: submission_id, **headers},
            )
        )
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)
    duplicates = 0
    async with asyncio.timeout(timeout):
        for count, future in enumerate(futures, start=1):
            duplicates += bool(getattr(await future, "duplicate", False))
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
    return PublishSummary(published=len(futures) - duplicates, duplicates=duplicates)


def file_row(
    file_id: str,
    row: int,
    body: Mapping[str, object],
    default_source: str | None,
    default_kind: str | None,
    *,
    sheet_index: int = 0,
) -> tuple[str, dict[str, object], dict[str, str]]:
    """A spreadsheet row as a submission: id `<file sha256>:<row>`, defaults filled in, provenance headers.

    Rows of the second and later sheets read from one workbook have ids `<file sha256>:<sheet>:<row>`
    (`<sheet>` counting from 1), so that row 5 of two sheets are two submissions.
    """
    item = dict(body)
    if default_source and not item.get("source"):
        item["source"] = default_source
    if default_kind and not item.get("kind"):
        item["kind"] = default_kind
    return _file_submission_id(file_id, row, sheet_index), item, _provenance(file_id, row)


def _file_submission_id(file_id: str, row: int, sheet_index: int) -> str:
    return f"{file_id}:{row}" if sheet_index == 0 else f"{file_id}:{sheet_index + 1}:{row}"


def _provenance(file_id: str, row: int) -> dict[str, str]:
    return {FILE_ID_HEADER: file_id, ROW_HEADER: str(row)}


@dataclass(frozen=True)
class PreparedFile:
    """A spreadsheet read and turned into submissions: how it was read (no rows), and each row's id
    parts and JSON body (one per line: JSON text never holds a raw newline)."""

    file_id: str
    reading: Table
    rows: tuple[tuple[int, int], ...]  # (sheet index, row number), in order
    bodies: bytes

    def submissions(self) -> Iterator[tuple[str, bytes, dict[str, str]]]:
        bodies = self.bodies.split(b"\n") if self.rows else []
        for (sheet_index, row), body in zip(self.rows, bodies, strict=True):
            yield _file_submission_id(self.file_id, row, sheet_index), body, _provenance(self.file_id, row)


def prepare_file(
    data: bytes,
    filename: str,
    limits: FileLimits,
    *,
    default_kind: str | None = None,
    default_source: str | None = None,
    mapping: Sequence[str] = (),
) -> PreparedFile | FileRejection:
    """The file's rows as submissions (id `<sha256>:<row>`, defaults filled in), or why it is refused."""
    table = read_table(
        data, filename, limits, default_kind=default_kind, default_source=default_source, mapping=mapping
    )
    if isinstance(table, FileRejection):
        return table
    file_id = hashlib.sha256(data).hexdigest()
    bodies = b"\n".join(
        encode(file_row(file_id, row.number, row.values, default_source, default_kind)[1]) for row in table.rows
    )
    rows = tuple((row.sheet_index, row.number) for row in table.rows)
    return PreparedFile(file_id, replace(table, rows=()), rows, bodies)
