"""Request bodies read with a hard cap, and JSON decoded within a size and a depth (duban_kit)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from duban_kit.boundedjson import JsonTooDeep, JsonTooLarge, loads_bounded, nesting_depth
from duban_kit.http import BodyTooLarge, body_problem, capped, read_json

CAP = 1000
CHUNK = 100


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('{"a": 1}', 1),
        ('[{"a": [1]}]', 3),
        ('[{"a": "]]]}}}"}, [[2]]]', 3),
        ('["\\"[[[", [1]]', 2),
    ],
)
def test_nesting_depth_counts_arrays_and_objects_and_skips_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_loads_bounded_decodes_what_is_within_both_limits() -> None:
    data = json.dumps([{"学校": "巴中二中", "数值": [1, 2]}], ensure_ascii=False).encode()
    assert loads_bounded(data, max_depth=3, max_bytes=len(data)) == [{"学校": "巴中二中", "数值": [1, 2]}]


def test_deep_json_is_refused_by_its_depth_not_by_the_interpreter() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000  # json.loads raises RecursionError on this
    with pytest.raises(JsonTooDeep) as refused:
        loads_bounded(deep, max_depth=16, max_bytes=1 << 20)
    assert refused.value.max_depth == 16
    assert isinstance(refused.value, ValueError)


def test_large_json_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(JsonTooLarge) as refused:
        loads_bounded(b"[" + b"1," * 600 + b"1]", max_depth=16, max_bytes=1000)
    assert (refused.value.max_bytes, refused.value.size) == (1000, 1203)


def test_malformed_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        loads_bounded(b'{"a": ', max_depth=16, max_bytes=1000)


# --- the capped body, through a real ASGI app ----------------------------------------------------


def _app() -> Starlette:
    async def raw(request: Request) -> Response:
        try:
            body = await capped(request, CAP).body()
        except BodyTooLarge as error:
            return body_problem(error)
        return JSONResponse({"bytes": len(body)})

    async def as_json(request: Request) -> Response:
        try:
            return JSONResponse({"value": await read_json(request, CAP, max_depth=4)})
        except ValueError as error:
            return body_problem(error)

    async def form(request: Request) -> Response:
        try:
            async with capped(request, CAP).form() as fields:
                return JSONResponse({"fields": sorted(fields.keys())})
        except BodyTooLarge as error:
            return body_problem(error)

    return Starlette(
        routes=[
            Route("/raw", raw, methods=["POST"]),
            Route("/json", as_json, methods=["POST"]),
            Route("/form", form, methods=["POST"]),
        ]
    )


async def _chunks(count: int, pulled: list[int]) -> AsyncIterator[bytes]:
    for index in range(count):
        pulled.append(index)
        yield b"x" * CHUNK


async def _post(path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(path, **kwargs)  # type: ignore[arg-type]


async def test_a_body_within_the_cap_is_read_whole() -> None:
    response = await _post("/raw", content=b"x" * CAP)
    assert response.status_code == 200
    assert response.json() == {"bytes": CAP}


async def test_a_declared_length_over_the_cap_is_refused_before_anything_is_read() -> None:
    pulled: list[int] = []
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/raw", content=_chunks(50, pulled), headers={"Content-Length": "5000"})
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert response.json()["max_bytes"] == CAP
    assert len(pulled) <= 1  # the transport may have buffered the first chunk; nothing more was asked for


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_cap() -> None:
    pulled: list[int] = []
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/raw", content=_chunks(10_000, pulled))  # chunked: no Content-Length
    assert response.status_code == 413
    assert len(pulled) * CHUNK <= CAP + 2 * CHUNK  # stopped just past the cap, not at 1 MB


async def test_a_multipart_form_is_capped_as_a_whole() -> None:
    small = await _post("/form", files={"file": ("a.csv", b"x" * 100)}, data={"source": "巴中二中"})
    large = await _post("/form", files={"file": ("a.csv", b"x" * (CAP * 3))})
    assert small.status_code == 200 and small.json() == {"fields": ["file", "source"]}
    assert large.status_code == 413


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[" * 400 + b"]" * 400, 400, "json_too_deep"),
        (b'{"a": "' + b"x" * 2000 + b'"}', 413, "body_too_large"),
        (b"{not json", 400, "invalid_json"),
    ],
    ids=["too deep", "too large", "not json"],
)
async def test_read_json_answers_a_bad_body_with_its_own_status(body: bytes, status: int, code: str) -> None:
    response = await _post("/json", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] == code
