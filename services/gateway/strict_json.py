"""JSON request bodies are parsed strictly, before any route sees them, and only once.

Python's json module accepts NaN, Infinity and -Infinity, turns 1e999 into infinity, and
recurses once per nesting level. Such a body then failed while its 422 was being written (a
NaN cannot be put back into JSON), which answered 500 and broke the keep-alive connection for
the next request. Here they are refused with a 422 that names the reason.

The value parsed here is kept in the request's scope (PARSED_JSON): `json_body` and FastAPI's
own body parsing (routes made by ParsedOnceRoute) take it from there instead of parsing again.
"""

import json
import math
from collections.abc import Awaitable, Callable
from email.message import Message as MimeHeader
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 32
PARSED_JSON = "cairn.parsed_json"  # scope key: the body as StrictJsonBodies parsed it


class JsonRefused(ValueError):
    """The body is not JSON Cairn accepts; the message says why."""


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number (numbers must be finite)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text[:40]} is too large (numbers must be finite)")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(data: bytes | str) -> Any:
    """The parsed body, or JsonRefused: no NaN or infinities, at most MAX_JSON_DEPTH levels."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as e:
        raise JsonRefused(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels") from e
    except JsonRefused:
        raise
    except ValueError as e:  # JSONDecodeError, bad UTF-8, an integer of thousands of digits
        raise JsonRefused(f"invalid JSON: {e}") from e
    if _depth(value) > MAX_JSON_DEPTH:
        raise JsonRefused(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def parsed_as_json(content_type: str | None) -> bool:
    """FastAPI's rule for which bodies it parses as JSON: no content type, or application/json
    or application/*+json."""
    if not content_type:
        return True
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class StrictJsonBodies:
    """Reads a JSON body whole, refuses it with 422 if `loads` does, else hands it on unchanged.
    Runs inside BodySizeLimit, so the body it buffers is already bounded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        if not parsed_as_json(content_type):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                scope[PARSED_JSON] = loads(body)
            except JsonRefused as e:
                await _refuse(send, str(e))
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def parsed_body(scope: Scope) -> tuple[bool, Any]:
    """(True, the value) if StrictJsonBodies parsed this request's body already."""
    return (True, scope[PARSED_JSON]) if PARSED_JSON in scope else (False, None)


class _ParsedOnceRequest(Request):
    async def json(self) -> Any:
        found, value = parsed_body(self.scope)
        return value if found else await super().json()


class ParsedOnceRoute(APIRoute):
    """A route whose JSON body model is validated from the value StrictJsonBodies parsed,
    not from a second parse (FastAPI's documented custom-Request pattern)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(_ParsedOnceRequest(request.scope, request.receive))

        return handle


async def _refuse(send: Send, reason: str) -> None:
    detail = {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": reason, "input": None}]}
    body = json.dumps(detail).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
