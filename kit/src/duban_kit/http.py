"""Each service's HTTP side: `/metrics`, `/healthz`, `/readyz`, and its API behind bearer tokens.

Tokens map to roles and holders (`duban_kit.tokens`). A state-changing endpoint names the roles it
allows: no token → 401, a token whose role is not allowed → 403. Read-only endpoints need a token
unless configured otherwise; `/metrics` only when configured so; `/healthz` and `/readyz` never.

Request bodies are read with a hard byte cap (`capped`, `read_body`, `read_json`): a declared
Content-Length above the cap is refused before a byte is read, and a body streamed without one is
refused as soon as it passes the cap — never read whole first and measured after. JSON is decoded
within a depth as well (`boundedjson.loads_bounded`), so no body can reach the recursion limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from .boundedjson import JsonTooDeep, JsonTooLarge, loads_bounded
from .metrics import ServiceMetrics
from .tokens import Identity, Role, load_tokens

#: `Role` and `Identity` live in `tokens` and are used from here by the services' HTTP routes.
__all__ = [
    "BodyTooLarge",
    "HttpServer",
    "Identity",
    "Role",
    "TokenAuth",
    "body_problem",
    "build_http_app",
    "caller",
    "capped",
    "guarded",
    "problem",
    "read_body",
    "read_json",
]

Endpoint = Callable[[Request], Awaitable[Response]]

log = logging.getLogger(__name__)


class TokenAuth:
    """Who a request's bearer token belongs to, and whether that may do what it asks.

    Tokens and their holders come from `duban_kit.tokens` (a role and a name each; placeholders are
    refused there). Read-only API endpoints need a token unless `read_requires_token` is off;
    `/healthz` and `/readyz` never do; `/metrics` follows its own switch.
    """

    def __init__(
        self, tokens: Mapping[str, Identity], *, read_requires_token: bool = True, metrics_requires_token: bool = False
    ) -> None:
        self._tokens = [(token.encode(), identity) for token, identity in tokens.items()]
        self.read_requires_token = read_requires_token
        self.metrics_requires_token = metrics_requires_token

    @classmethod
    def from_config(
        cls,
        tokens_file: Path | None,
        tokens_inline: str | None,
        *,
        read_requires_token: bool = True,
        metrics_requires_token: bool = False,
    ) -> TokenAuth:
        tokens = load_tokens(tokens_file, tokens_inline)
        if not tokens:
            log.warning(
                "no API tokens configured (DUBAN_API_TOKENS_FILE / DUBAN_API_TOKENS): every /api request "
                "will be refused with 401%s",
                "" if read_requires_token else ", except reads (DUBAN_READ_REQUIRES_TOKEN=false)",
            )
        return cls(tokens, read_requires_token=read_requires_token, metrics_requires_token=metrics_requires_token)

    def identity_of(self, request: Request) -> Identity | None:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        wanted = presented.strip().encode()
        found = None
        for token, identity in self._tokens:  # every one compared, in constant time each
            if hmac.compare_digest(token, wanted):
                found = identity
        return found

    def role_of(self, request: Request) -> Role | None:
        identity = self.identity_of(request)
        return identity.role if identity else None

    def check(self, request: Request, allowed: Iterable[Role] | None) -> Response | None:
        """None when the request may proceed (its token's holder then in `caller(request)`), else the
        401/403 response to send."""
        identity = self.identity_of(request)
        request.state.identity = identity
        if allowed is None:
            return None
        allowed = set(allowed) | {Role.ADMIN}
        if identity is None:
            return problem(
                401,
                "unauthorized",
                "缺少或无效的访问令牌 / missing or invalid bearer token",
                headers={"WWW-Authenticate": 'Bearer realm="duban"'},
            )
        if identity.role not in allowed:
            role = identity.role.value
            return problem(
                403,
                "forbidden",
                f"角色 {role} 无权执行此操作 / role {role} may not do this "
                f"(allowed: {', '.join(sorted(r.value for r in allowed))})",
            )
        return None


def caller(request: Request) -> Identity | None:
    """Who made a request that went through `guarded`: its token's holder, None without a token."""
    identity = getattr(request.state, "identity", None)
    return identity if isinstance(identity, Identity) else None


def problem(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


def guarded(auth: TokenAuth, allowed: Sequence[Role] | None, endpoint: Endpoint) -> Endpoint:
    """`endpoint` behind the token check; `allowed=None` means any known token's holder may read (open
    only with `read_requires_token` off). The endpoint finds the holder with `caller(request)`."""
    effective: Sequence[Role] | None = allowed
    if allowed is None and auth.read_requires_token:
        effective = (Role.READER, Role.OPERATOR, Role.INTEGRATION)

    async def wrapper(request: Request) -> Response:
        refused = auth.check(request, effective)
        if refused is not None:
            return refused
        return await endpoint(request)

    return wrapper


def build_http_app(
    *,
    service: str,
    metrics: ServiceMetrics,
    readiness: Callable[[], Awaitable[dict[str, bool]]],
    auth: TokenAuth,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": service})

    async def readyz(_request: Request) -> Response:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "service": service, "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    metrics_guard = (Role.READER, Role.OPERATOR) if auth.metrics_requires_token else None
    base = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        # /metrics is guarded only by its own switch, not by the read-only one.
        Route("/metrics", guarded(auth, metrics_guard, metrics_endpoint) if metrics_guard else metrics_endpoint),
    ]
    return Starlette(routes=[*base, *routes])


#: How deeply a JSON request body may nest unless an endpoint says otherwise (submissions need 2).
DEFAULT_JSON_DEPTH = 32


class BodyTooLarge(ValueError):
    """The request body is (or says it is) larger than the endpoint accepts."""

    def __init__(self, max_bytes: int, declared: int | None = None) -> None:
        size = f"declares {declared} bytes" if declared is not None else "passed"
        super().__init__(f"request body {size}; the limit is {max_bytes} bytes")
        self.max_bytes = max_bytes
        self.declared = declared


def capped(request: Request, max_bytes: int) -> Request:
    """The same request, whose body raises `BodyTooLarge` rather than deliver more than `max_bytes`.

    Every way of reading the body (`body()`, `stream()`, `form()`) goes through `receive`, so the cap
    holds for JSON, raw and multipart bodies alike. A Content-Length above the cap is refused at the
    first read, before anything is received.
    """
    declared = _content_length(request)
    received = 0

    async def receive() -> Message:
        nonlocal received
        if declared is not None and declared > max_bytes:
            raise BodyTooLarge(max_bytes, declared)
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge(max_bytes)
        return message

    return Request(request.scope, receive)


def _content_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, at most `max_bytes` of it (else `BodyTooLarge`, having read no more than that)."""
    return await capped(request, max_bytes).body()


async def read_json(request: Request, limit: int = 1 << 20, *, max_depth: int = DEFAULT_JSON_DEPTH) -> Any:
    """The body as JSON (an empty body is null); every refusal is a `ValueError` — see `json_problem`."""
    body = await read_body(request, limit)
    return loads_bounded(body or b"null", max_depth=max_depth, max_bytes=limit)


def body_problem(error: ValueError) -> JSONResponse:
    """The answer to a body `read_json`/`read_body` refused: 413 too large, 400 too deep or not JSON."""
    if isinstance(error, BodyTooLarge | JsonTooLarge):
        limit = error.max_bytes
        return problem(
            413,
            "body_too_large",
            f"请求体超过上限 {limit} 字节 / the request body is larger than the limit of {limit} bytes",
            max_bytes=limit,
        )
    if isinstance(error, JsonTooDeep):
        depth = error.max_depth
        return problem(
            400,
            "json_too_deep",
            f"JSON 嵌套超过 {depth} 层 / the JSON is nested more than {depth} levels deep",
            max_depth=depth,
        )
    return problem(400, "invalid_json", f"请求体不是有效的 JSON / body is not valid JSON: {error}")


class HttpServer:
    """uvicorn in the service's own event loop, started and stopped by the service.

    `Server._serve` is used rather than `serve`: `serve` installs its own SIGINT/SIGTERM handlers and
    re-raises the signal on exit, while the service wants to decide the order of shutdown itself.
    """

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(self.config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server._serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises the bind error, e.g. the port is taken
                raise RuntimeError(f"HTTP server on {self.config.host}:{self.config.port} stopped at start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
            self._task = None
