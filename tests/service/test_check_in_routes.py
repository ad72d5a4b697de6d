"""The check-in pages on the service fakes (no Kafka, no database): the host opens a session in
"host confirms" mode from the dashboard, an attendee checks in through the signed link, the host
confirms and then removes it (a void); the link is refused outside its window, when tampered
with, and past the rate limit."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from schemas.activity import ActivityVoided, OrgActivity, WorkshopAttendanceRecorded


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page)[1]


def open_session(gateway: TestClient, api_key: str, starts: str, ends: str, **more: str) -> str:
    """Signs in and opens check-in from the dashboard; returns the session page's path."""
    assert gateway.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 303
    form = gateway.get("/dashboard/check-in").text
    fields = {
        "token": token_of(form),
        "series": "bike-repair",
        "session": "3",
        "starts_at": starts,
        "ends_at": ends,
    }
    opened = gateway.post("/dashboard/check-in", data={**fields, **more})
    assert opened.status_code == 303, opened.text
    return opened.headers["location"]


def link_on(page: str) -> str:
    return re.search(r'id="check-in-link" href="https?://[^/]+(/check-in/[^"]+)"', page)[1]


def records(publisher) -> list:
    return [r.activity.root for r in publisher.of(OrgActivity)]


def test_host_confirms_then_removes_a_check_in(gateway, publisher, riverside):
    path = open_session(gateway, riverside.api_key, "2026-11-30 11:45", "2026-11-30 13:45", host_confirms="1")
    page = gateway.get(path).text
    assert "<svg" in page and "each check-in waits for your confirmation" in page
    link = link_on(page)
    assert 'id="name"' in gateway.get(link).text
    answered = gateway.post(link, data={"name": "Gia Rossi", "email": "gia@example.org"})
    assert answered.status_code == 200 and "The host will confirm" in answered.text
    assert records(publisher) == [], "waits for the host"

    listed = gateway.get(f"{path}/list").text
    assert "Gia Rossi" in listed and "waiting for you" in listed
    confirm = re.search(r'action="([^"]+/confirm)"', listed)[1]
    assert gateway.post(confirm, data={"token": token_of(listed)}).status_code == 303
    [attendance] = records(publisher)
    assert isinstance(attendance, WorkshopAttendanceRecorded) and attendance.session == "3"

    listed = gateway.get(f"{path}/list").text
    assert "counted" in listed
    remove = re.search(r'action="([^"]+/remove)"', listed)[1]
    assert gateway.post(remove, data={"token": token_of(listed)}).status_code == 303
    [_, void] = records(publisher)
    assert isinstance(void, ActivityVoided) and "removed" in gateway.get(f"{path}/list").text
    assert gateway.post(remove, data={"token": "stale"}).status_code == 403, "the form token is checked"


def test_the_link_is_refused_out_of_its_window_tampered_or_too_often(gateway, clock, riverside):
    path = open_session(gateway, riverside.api_key, "2026-11-30 12:31", "2026-11-30 14:00")
    sessions = gateway.get("/dashboard/check-in").text
    assert "from 30 minutes before the session starts to 120 minutes after it ends" in sessions
    fields = {
        "token": token_of(sessions),
        "series": "s",
        "session": "1",
        "starts_at": "tonight",
        "ends_at": "x",
    }
    assert gateway.post("/dashboard/check-in", data=fields).status_code == 422
    link = link_on(gateway.get(path).text)
    early = gateway.get(link)
    assert early.status_code == 403 and "has not opened yet" in early.text
    assert gateway.get(link[:-1] + ("0" if link[-1] != "0" else "1")).status_code == 404
    clock.advance(timedelta(minutes=1))  # 30 minutes before the start
    assert gateway.get(link).status_code == 200
    answers = [
        gateway.post(link, data={"name": f"P{n}", "email": f"p{n}@example.org"}).status_code for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    clock.advance(timedelta(hours=4))  # 16:01: 2 h past the end (14:00), and a minute
    closed = gateway.get(link)
    assert closed.status_code == 403 and "has closed" in closed.text
