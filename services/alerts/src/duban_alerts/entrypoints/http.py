"""HTTP API of the alerts service: list alerts (read), acknowledge and silence (operators)."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.rpc import AlertCommand
from duban_kit.http import Role, TokenAuth, guarded, problem, read_json

from ..usecases.desk import AlertDesk
from .operations import alert_view, run_command

OPERATORS = (Role.OPERATOR,)


def routes(desk: AlertDesk, auth: TokenAuth) -> list[Route]:
    async def list_alerts(request: Request) -> Response:
        state = request.query_params.get("state", "open")
        alerts = await desk.alerts(state, request.query_params.get("rule"))
        return JSONResponse({"alerts": [alert_view(a) for a in alerts]})

    async def acknowledge(request: Request) -> Response:
        body = await _body(request)
        command = AlertCommand(
            action="ack",
            alert_id=request.path_params["alert_id"],
            actor=str(body.get("actor", "operator")),
            comment=body.get("comment"),
        )
        return _reply(await run_command(desk, command))

    async def silence(request: Request) -> Response:
        try:
            command = AlertCommand(action="silence", **await _body(request))
        except (ValidationError, TypeError) as error:
            return problem(400, "bad_request", str(error))
        return _reply(await run_command(desk, command))

    return [
        Route("/api/alerts", guarded(auth, None, list_alerts)),
        Route("/api/alerts/{alert_id}/ack", guarded(auth, OPERATORS, acknowledge), methods=["POST"]),
        Route("/api/silences", guarded(auth, OPERATORS, silence), methods=["POST"]),
    ]


async def _body(request: Request) -> dict[str, object]:
    try:
        body = await read_json(request)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reply(reply: object) -> Response:
    from duban_contracts.rpc import CommandReply

    assert isinstance(reply, CommandReply)
    return JSONResponse(reply.model_dump(mode="json"), status_code=200 if reply.ok else 400)
