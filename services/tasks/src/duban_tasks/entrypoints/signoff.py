"""销号 at the edge: the status events in, the commands over NATS (`tasks.signoff`) and HTTP.

HTTP: `GET /api/signoff[?pending=1]` lists (any token); `POST /api/signoff/{target_id}` with
`{"action": "approve"|"return"|"resubmit", "section": "基础教育股", "reason": "…"}` decides. The
actor is the token's holder; an admin token may decide for any section, an operator acts for the
section it names; a reader may not decide.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_contracts.rpc import SignOffCommand
from duban_kit.http import caller, guarded, problem
from duban_kit.service import ServiceRuntime
from duban_kit.tokens import Role

from ..domain.approval import Actor, ApprovalError
from ..usecases.signoff import SignOffDesk, UnknownTarget, approval_view, refusal


def register(runtime: ServiceRuntime, desk: SignOffDesk) -> None:
    runtime.consume(desk.units)

    @runtime.rpc("signoff")
    async def on_signoff(command: SignOffCommand) -> dict[str, Any]:
        actor = Actor(command.actor, command.section, command.admin)
        return await run(desk, command, actor)

    runtime.routes.extend(routes(desk, runtime))


async def run(desk: SignOffDesk, command: SignOffCommand, actor: Actor) -> dict[str, Any]:
    if command.action == "list":
        found = await desk.approvals(pending_only=command.pending_only)
        return {"ok": True, "approvals": [approval_view(a) for a in found]}
    if not command.target_id:
        return {"ok": False, "error": "missing_target", "message_zh": "须指明指标", "message_en": "name a target"}
    try:
        decided = await desk.decide(
            command.action,
            command.target_id,
            actor,
            at=datetime.now(UTC),
            request_id=command.request_id or str(uuid.uuid4()),
            reason=command.reason,
        )
    except ApprovalError as error:
        return refusal(error)
    except UnknownTarget:
        return {
            "ok": False,
            "error": "unknown_target",
            "message_zh": "计划中没有该指标",
            "message_en": "no such target",
        }
    return {"ok": True, "approval": approval_view(decided)}


def routes(desk: SignOffDesk, runtime: ServiceRuntime) -> list[Route]:
    async def listing(request: Request) -> Response:
        pending = request.query_params.get("pending") in ("1", "true")
        return JSONResponse(await run(desk, SignOffCommand(action="list", pending_only=pending), Actor("reader")))

    async def decide(request: Request) -> Response:
        identity = caller(request)
        try:
            body = await request.json()
            command = SignOffCommand.model_validate(
                {**body, "target_id": request.path_params["target_id"], "actor": identity.name if identity else "?"}
            )
        except (ValueError, ValidationError) as error:
            return problem(400, "bad_request", f"请求无效 / invalid request: {error}")
        if command.action == "list":
            return problem(400, "bad_request", "use GET /api/signoff to list")
        is_admin = identity is not None and identity.role is Role.ADMIN
        actor = Actor(command.actor, command.section, is_admin)
        result = await run(desk, command, actor)
        if result["ok"]:
            return JSONResponse(result)
        status = {"not_allowed": 403, "unknown_target": 404}.get(result["error"], 409)
        return JSONResponse(result, status_code=status)

    auth = runtime.auth
    return [
        Route("/api/signoff", guarded(auth, None, listing)),
        Route("/api/signoff/{target_id}", guarded(auth, (Role.OPERATOR, Role.ADMIN), decide), methods=["POST"]),
    ]
