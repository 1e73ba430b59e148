"""ingest's HTTP API: `POST /submissions` (a JSON submission or list, or a CSV/XLSX file)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from nats.js import JetStreamContext
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.subjects import Subjects
from duban_kit.http import Role, TokenAuth, caller, guarded, problem

from ..adapters.inbound import content_id, file_row, publish_submissions
from ..config import IngestSettings
from ..domain.spreadsheets import FileLimits, FileRejection, read_table

UPLOADERS = (Role.INTEGRATION, Role.OPERATOR)


def routes(settings: IngestSettings, jetstream: Callable[[], JetStreamContext], auth: TokenAuth) -> list[Route]:
    subjects = settings.subjects
    limits = FileLimits(max_bytes=settings.max_upload_bytes, max_rows=settings.max_rows)

    async def submit(request: Request) -> Response:
        subject = inbound_subject(request, subjects)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            return await _submit_json(request, jetstream(), subjects, subject)
        if content_type.startswith("multipart/form-data"):
            async with request.form(max_files=1, max_part_size=settings.max_upload_bytes) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    return problem(
                        400, "missing_file", "请在表单字段 file 中上传文件 / upload the file in form field 'file'"
                    )
                data = await upload.read(settings.max_upload_bytes + 1)
                name = upload.filename or "upload"
                source = _text(form.get("source"))
                kind = _text(form.get("kind"))
        else:
            data = await request.body()
            name = request.query_params.get("filename", "upload.csv")
            source = request.query_params.get("source")
            kind = request.query_params.get("kind")
        return await _submit_file(data, name, source, kind, limits, jetstream(), subjects, subject)

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


async def _submit_json(request: Request, js: JetStreamContext, subjects: Subjects, subject: str) -> Response:
    try:
        body = json.loads(await request.body())
    except ValueError as error:
        return problem(400, "invalid_json", f"请求体不是有效的 JSON / body is not valid JSON: {error}")
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


async def _submit_file(  # noqa: PLR0917 - the upload's parts, passed straight through
    data: bytes,
    name: str,
    source: str | None,
    kind: str | None,
    limits: FileLimits,
    js: JetStreamContext,
    subjects: Subjects,
    subject: str,
) -> Response:
    table = read_table(data, name, limits)
    if isinstance(table, FileRejection):
        return problem(400, table.code, f"{table.message_zh} / {table.message_en}")
    file_id = hashlib.sha256(data).hexdigest()
    triples = [file_row(file_id, row.number, row.values, source, kind) for row in table.rows]
    summary = await publish_submissions(js, subjects, triples, subject=subject)
    return JSONResponse(
        {"file_id": file_id, "rows": len(triples), "published": summary.published, "duplicates": summary.duplicates},
        status_code=202,
    )
