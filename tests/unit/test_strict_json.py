"""JSON bodies are parsed strictly before a route sees them: no NaN, infinities or deep nesting."""

import json

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from services.gateway.dependencies import json_body
from services.gateway.strict_json import (
    MAX_JSON_DEPTH,
    JsonRefused,
    ParsedOnceRoute,
    StrictJsonBodies,
    loads,
)

REFUSED = [
    (b'{"hours": NaN}', "NaN is not a JSON number"),
    (b'{"hours": Infinity}', "Infinity is not a JSON number"),
    (b'{"hours": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"hours": 1e999}', "1e999 is too large"),
    (b'{"hours": -1e999}', "-1e999 is too large"),
    (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "nested deeper than 32"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested deeper than 32"),
    (b"1" * 5000, "invalid JSON"),
    (b"\xff\xfe", "invalid JSON"),
    (b'{"a": 1', "invalid JSON"),
]


@pytest.mark.parametrize(("body", "reason"), REFUSED)
def test_loads_refuses_with_the_reason(body, reason):
    with pytest.raises(JsonRefused, match=reason):
        loads(body)


def test_loads_accepts_ordinary_json_up_to_the_depth():
    deepest = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert loads(deepest) is not None
    assert loads(b'{"hours": 2.5, "n": 1e300, "ok": [true, null]}') == {
        "hours": 2.5,
        "n": 1e300,
        "ok": [True, None],
    }


class Body(BaseModel):
    hours: float


@pytest.fixture(params=["fastapi-route", "parsed-once-route"])
def client(request) -> TestClient:
    """The refusals hold for FastAPI's own routes and for the gateway's ParsedOnceRoute."""
    app = FastAPI()
    app.add_middleware(StrictJsonBodies)
    router = APIRouter(route_class=ParsedOnceRoute) if request.param == "parsed-once-route" else APIRouter()

    @router.post("/model")
    async def model(body: Body) -> dict:
        return {"hours": body.hours}

    @router.post("/raw")
    async def raw(request: Request) -> dict:
        return {"body": await json_body(request)}

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("body", "reason"), REFUSED)
@pytest.mark.parametrize("path", ["/model", "/raw"])
def test_bodies_are_refused_with_422_naming_the_reason(client, path, body, reason):
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and reason in error["msg"]


def test_a_handler_that_reads_the_body_itself_is_strict_whatever_the_content_type(client):
    response = client.post("/raw", content=b'{"hours": NaN}', headers={"content-type": "text/plain"})
    assert response.status_code == 422 and "NaN" in response.json()["detail"][0]["msg"]


def test_good_bodies_reach_the_route_unchanged(client):
    assert client.post("/model", json={"hours": 2.5}).json() == {"hours": 2.5}
    assert client.post("/raw", json={"hours": 2.5}).json() == {"body": {"hours": 2.5}}
    assert client.post("/raw", content=b'{"hours": 1}').json() == {"body": {"hours": 1}}, "no content type"


@pytest.mark.parametrize("path", ["/model", "/raw"])
def test_a_json_body_is_parsed_once(path, monkeypatch):
    """The middleware's parse is the only one: the route's model and json_body reuse it."""
    app = FastAPI()
    app.add_middleware(StrictJsonBodies)
    router = APIRouter(route_class=ParsedOnceRoute)

    @router.post("/model")
    async def model(body: Body) -> dict:
        return {"hours": body.hours}

    @router.post("/raw")
    async def raw(request: Request) -> dict:
        return {"body": await json_body(request)}

    app.include_router(router)
    client = TestClient(app)
    parses = []
    real_loads = json.loads

    def counting_loads(data, *args, **kwargs):
        parses.append(data)
        return real_loads(data, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    response = client.post(path, content=b'{"hours": 2.5}', headers={"content-type": "application/json"})
    monkeypatch.setattr(json, "loads", real_loads)
    assert response.status_code == 200, response.text
    assert parses == [b'{"hours": 2.5}']
