"""HTTP API of the reports service: aggregates (read), reports listed (read) and generated (operators)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.rpc import ReportRequest
from duban_kit.http import Role, TokenAuth, guarded, problem, read_json

from ..usecases.aggregates import Aggregates
from ..usecases.publishing import ReportDesk
from .timeutil import as_of_instant


def routes(desk: ReportDesk, aggregates: Aggregates, auth: TokenAuth) -> list[Route]:
    async def aggregate(request: Request) -> Response:
        name = request.path_params["name"]
        text = request.query_params.get("as_of")
        try:
            when: date | datetime | None = None
            if text:
                when = datetime.fromisoformat(text) if ("T" in text or " " in text) else date.fromisoformat(text)
        except ValueError as error:
            return problem(400, "bad_as_of", str(error))
        as_of = as_of_instant(when)
        if name == "completion":
            return JSONResponse(await aggregates.completion(as_of))
        if name == "summary":
            return JSONResponse(await aggregates.summary(as_of))
        return problem(404, "unknown_aggregate", f"no aggregate {name!r}; try completion or summary")

    async def list_reports(_request: Request) -> Response:
        return JSONResponse({"reports": await desk.jobs()})

    async def generate(request: Request) -> Response:
        try:
            body = ReportRequest.model_validate(await read_json(request))
            report_id = await desk.request(body.period, body.formats, body.deliver, await aggregates.now())
        except (ValidationError, ValueError) as error:
            return problem(400, "bad_request", str(error))
        return JSONResponse({"report_id": report_id, "status": "queued"}, status_code=202)

    return [
        Route("/api/aggregates/{name}", guarded(auth, None, aggregate)),
        Route("/api/reports", guarded(auth, None, list_reports), methods=["GET"]),
        Route("/api/reports", guarded(auth, (Role.OPERATOR,), generate), methods=["POST"]),
    ]
