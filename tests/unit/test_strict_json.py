"""JSON bodies are parsed strictly before a route sees them: no NaN, infinities or deep nesting."""

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from services.gateway.dependencies import json_body
from services.gateway.strict_json import MAX_JSON_DEPTH, JsonRefused, StrictJsonBodies, loads

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


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.add_middleware(StrictJsonBodies)

    @app.post("/model")
    async def model(body: Body) -> dict:
        return {"hours": body.hours}

    @app.post("/raw")
    async def raw(request: Request) -> dict:
        return {"body": await json_body(request)}

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
