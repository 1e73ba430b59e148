"""Publishing submissions into the inbound stream, as an integration would (HTTP upload, `duban submit`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nats.js import JetStreamContext

from duban_contracts.inbound import SUBMISSION_ID_HEADER
from duban_contracts.subjects import Subjects

FILE_ID_HEADER = "Duban-File-Id"
ROW_HEADER = "Duban-Row"
REPLAY_OF_HEADER = "Duban-Replay-Of"


@dataclass(frozen=True)
class PublishSummary:
    published: int
    duplicates: int


def content_id(item: object) -> str:
    """An id for a submission sent without one: the hash of its canonical JSON."""
    canonical = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


async def publish_submissions(
    js: JetStreamContext,
    subjects: Subjects,
    items: Iterable[tuple[str, Mapping[str, object], dict[str, str]]],
    *,
    timeout: float = 30.0,
) -> PublishSummary:
    """Publish (id, body, extra headers) triples, pipelined; every one acknowledged or an exception."""
    futures = []
    for submission_id, body, headers in items:
        payload = json.dumps(body, ensure_ascii=False, default=str).encode()
        futures.append(
            await js.publish_async(
                subjects.inbound_submission, payload, headers={SUBMISSION_ID_HEADER: submission_id, **headers}
            )
        )
    acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=timeout)
    duplicates = sum(1 for ack in acks if getattr(ack, "duplicate", False))
    return PublishSummary(published=len(acks) - duplicates, duplicates=duplicates)


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
    submission_id = f"{file_id}:{row}" if sheet_index == 0 else f"{file_id}:{sheet_index + 1}:{row}"
    return submission_id, item, {FILE_ID_HEADER: file_id, ROW_HEADER: str(row)}
