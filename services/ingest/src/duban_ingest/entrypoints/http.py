"""ingest's HTTP API: `POST /submissions` (a JSON submission or list, or a CSV/XLSX file).

Bodies are read with a hard cap (`duban_kit.http.capped`): a Content-Length over it, or a body that
streams past it, is answered 413 before more is read — JSON (`max_json_bytes`, and `max_json_depth`
levels of nesting: deeper is 400), a raw file body and a multipart form (`max_upload_bytes`, plus
room for the form's own fields) alike. A spreadsheet is parsed by the worker pool (`SheetPool`), never
on the event loop. The answer says how the file was read: the sheet(s), which column gave which
field, the unit of measure found, the columns not used and the rows skipped. A file whose header
lacks a column its kind needs is refused whole (422 `missing_columns`), nothing published.

A file upload takes `source`, `kind` and `map` (`列名=field`, several on separate lines or
comma-separated; `列名=-` leaves a column out) as form fields, or as query parameters for a raw body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.subjects import Subjects
from duban_kit.boundedjson import loads_bounded
from duban_kit.http import BodyTooLarge, Role, TokenAuth, body_problem, caller, capped, guarded, problem

from ..adapters.inbound import content_id, publish_encoded, publish_submissions
from ..adapters.sheet_pool import SheetPool
from ..config import IngestSettings
from ..domain.spreadsheets import FileLimits, FileRejection

UPLOADERS = (Role.INTEGRATION, Role.OPERATOR)
#: Room in a multipart body for the boundaries and the small form fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024
_FIELD_BYTES = 16 * 1024

#: HTTP status of each file rejection: 413 a limit passed, 422 readable but not understood or not
#: parseable within budget, 400 (the rest) not a file we can read at all.
_STATUS_BY_CODE = {
    "file_too_large": 413,
    "archive_too_large": 413,
    "suspicious_compression": 413,
    "too_many_rows": 413,
    "too_many_cells": 413,
    "too_many_cells_in_row": 413,
    "cell_too_long": 413,
    "no_header": 422,
    "missing_columns": 422,
    "unknown_map_column": 422,
    "parse_time_exceeded": 422,
    "parse_memory_exceeded": 422,
    "parse_failed": 422,
}


def file_limits(settings: IngestSettings) -> FileLimits:
    return FileLimits(
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_rows,
        max_cells_per_row=settings.max_cells_per_row,
        max_cells=settings.max_cells,
    )


def routes(
    settings: IngestSettings, jetstream: Callable[[], JetStreamContext], auth: TokenAuth, sheets: SheetPool
) -> list[Route]:
    subjects = settings.subjects

    async def submit(request: Request) -> Response:
        try:
            return await _submit(request)
        except BodyTooLarge as error:
            return body_problem(error)

    async def _submit(request: Request) -> Response:
        subject = inbound_subject(request, subjects)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                body = await capped(request, settings.max_json_bytes).body()
                items = loads_bounded(body, max_depth=settings.max_json_depth, max_bytes=settings.max_json_bytes)
            except ValueError as error:
                return body_problem(error)
            return await _submit_json(items, request, jetstream(), subjects, subject)
        if content_type.startswith("multipart/form-data"):
            upload = await _form_upload(capped(request, settings.max_upload_bytes + FORM_OVERHEAD_BYTES), settings)
            if upload is None:
                return problem(400, "missing_file", "请在表单字段 file 中上传文件 / upload the file in field 'file'")
        else:
            upload = Upload(
                await capped(request, settings.max_upload_bytes).body(),
                request.query_params.get("filename", "upload.csv"),
                request.query_params.get("source"),
                request.query_params.get("kind"),
                tuple(request.query_params.getlist("map")),
            )
        return await _submit_file(upload, sheets, jetstream(), subjects, subject)

    return [Route("/submissions", guarded(auth, UPLOADERS, submit), methods=["POST"])]


def inbound_subject(request: Request, subjects: Subjects) -> str:
    """An integration's uploads go to its own subject, so ingest holds them to the units it may speak
    for (the token's name is the integration's id); staff (operator, admin) use the shared subject."""
    identity = caller(request)
    if identity is not None and identity.role is Role.INTEGRATION:
        return subjects.integration_submission(identity.name)
    return subjects.inbound_submission


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


async def _submit_json(
    body: object, request: Request, js: JetStreamContext, subjects: Subjects, subject: str
) -> Response:
    items = body if isinstance(body, list) else [body]
    given = request.headers.get("idempotency-key")
    triples: list[tuple[str, dict[str, object], dict[str, str]]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            return problem(
                400, "not_an_object", f"第{index + 1}项不是 JSON 对象 / item {index + 1} is not a JSON object"
            )
        submission_id = (
            str(item.pop("submission_id", "") or "")
            or (f"{given}:{index}" if given and len(items) > 1 else given)
            or content_id(item)
        )
        triples.append((submission_id, item, {}))
    summary = await publish_submissions(js, subjects, triples, subject=subject)
    return JSONResponse(
        {
            "accepted_for_processing": len(triples),
            "published": summary.published,
            "duplicates": summary.duplicates,
            "submission_ids": [t[0] for t in triples],
        },
        status_code=202,
    )


@dataclass(frozen=True)
class Upload:
    data: bytes
    name: str
    source: str | None
    kind: str | None
    mapping: tuple[str, ...]  # `列名=field` overrides


async def _form_upload(request: Request, settings: IngestSettings) -> Upload | None:
    async with request.form(max_files=1, max_fields=8, max_part_size=_FIELD_BYTES) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return None
        return Upload(
            await file.read(settings.max_upload_bytes + 1),
            file.filename or "upload",
            _text(form.get("source")),
            _text(form.get("kind")),
            tuple(text for value in form.getlist("map") if (text := _text(value))),
        )


async def _submit_file(
    upload: Upload, sheets: SheetPool, js: JetStreamContext, subjects: Subjects, subject: str
) -> Response:
    prepared = await sheets.prepare(
        upload.data, upload.name, default_kind=upload.kind, default_source=upload.source, mapping=upload.mapping
    )
    if isinstance(prepared, FileRejection):
        return _refused(prepared)
    summary = await publish_encoded(js, subjects, prepared.submissions(), subject=subject)
    return JSONResponse(
        {
            "file_id": prepared.file_id,
            "rows": len(prepared.rows),
            "published": summary.published,
            "duplicates": summary.duplicates,
            "mapping": prepared.reading.as_json(),
        },
        status_code=202,
    )


def _refused(rejection: FileRejection) -> Response:
    extra: dict[str, Any] = {}
    if rejection.row is not None:
        extra["row"] = rejection.row
    if rejection.column is not None:
        extra["column"] = rejection.column
    if rejection.sheet is not None:
        extra["sheet"] = rejection.sheet
    if rejection.found or rejection.wanted:
        extra |= {"columns_found": list(rejection.found), "fields_wanted": list(rejection.wanted)}
    status = _STATUS_BY_CODE.get(rejection.code, 400)
    return problem(status, rejection.code, f"{rejection.message_zh} / {rejection.message_en}", **extra)
