"""HTTP JSON API of the tasks service: the state of any target, task, section or the plan."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.rpc import StatusQuery
from duban_kit.http import TokenAuth, guarded, problem

from ..usecases.tracking import Tracker
from .views import UnknownRef, as_of_instant, reply


def routes(tracker: Tracker, auth: TokenAuth) -> list[Route]:
    async def status(request: Request) -> Response:
        params = request.query_params
        try:
            query = StatusQuery(
                level=params.get("level", "plan"),
                ref=params.get("ref"),
                as_of=_parse_as_of(params.get("as_of")),
            )
        except (ValidationError, ValueError) as error:
            return problem(400, "bad_query", f"查询参数无效 / invalid query: {error}")
        try:
            judgement = await tracker.judge(as_of_instant(query.as_of))
            body = reply(tracker.plan, judgement, query)
        except UnknownRef as error:
            return problem(404, "unknown_ref", str(error))
        return JSONResponse(body.model_dump(mode="json"))

    async def plan(_request: Request) -> Response:
        return JSONResponse(tracker.plan.model_dump(mode="json"))

    return [
        Route("/api/status", guarded(auth, None, status)),
        Route("/api/plan", guarded(auth, None, plan)),
    ]


def _parse_as_of(text: str | None) -> date | datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
