"""HTTP API of the alerts service: list alerts (read), acknowledge and silence (operators).

Who acknowledged or silenced is the holder of the bearer token (its name in the tokens file), never
what the request body says: an `actor` in the body that names someone else is refused with 400
(`actor_mismatch`) rather than silently replaced, so a client that meant to record another name
learns that the record would not say it; naming the token's own holder is accepted.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.rpc import AlertCommand
from duban_kit.http import Role, TokenAuth, caller, guarded, problem, read_json

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
        actor = _actor(request, body)
        if isinstance(actor, Response):
            return actor
        command = AlertCommand(
            action="ack", alert_id=request.path_params["alert_id"], actor=actor, comment=body.get("comment")
        )
        return _reply(await run_command(desk, command))

    async def silence(request: Request) -> Response:
        body = await _body(request)
        actor = _actor(request, body)
        if isinstance(actor, Response):
            return actor
        try:
            command = AlertCommand(action="silence", **{**body, "actor": actor})
        except (ValidationError, TypeError) as error:
            return problem(400, "bad_request", str(error))
        return _reply(await run_command(desk, command))

    return [
        Route("/api/alerts", guarded(auth, None, list_alerts)),
        Route("/api/alerts/{alert_id}/ack", guarded(auth, OPERATORS, acknowledge), methods=["POST"]),
        Route("/api/silences", guarded(auth, OPERATORS, silence), methods=["POST"]),
    ]


def _actor(request: Request, body: dict[str, object]) -> str | Response:
    """The token holder's name, or the 400 to send when the body names another actor."""
    identity = caller(request)
    if identity is None:  # not reached: the route is guarded for operators
        return problem(401, "unauthorized", "缺少访问令牌 / missing bearer token")
    given = body.pop("actor", None)
    if given is not None and given != identity.name:
        return problem(
            400,
            "actor_mismatch",
            f"操作人以访问令牌为准（{identity.name}），请求体中的 actor “{given}” 与之不符 / the actor is the "
            f"token's holder ({identity.name}); the body's actor {given!r} names someone else",
            actor=identity.name,
        )
    return identity.name


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
