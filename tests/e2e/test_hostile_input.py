"""Input that must be refused, through every door of the running system, with a clear 422 (or a
page saying so) and nothing stored: control characters, activity in the future, non-finite or
deeply nested JSON, bad slugs and URLs, and CSV files that are not UTF-8. (One id with two
contents and a void of itself are rules of the event bodies alone: tests/service/test_intake.py.)"""

import http.client
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import organisation, shift

pytestmark = pytest.mark.e2e
ADMIN_TOKEN = "admin-token-for-hostile-input"
INJECTED = "Sam\r\nBcc: evil@example.org"
REVERSED = "\u202eevil"


system = system_with("cairn-hostile", CAIRN_ADMIN_TOKEN=ADMIN_TOKEN)


@pytest.fixture(scope="module")
def org(system) -> httpx.Client:
    return organisation(system, "Hostile Input Test", "hostile")


def nothing_stored_for(org: httpx.Client, email: str) -> None:
    assert org.get(f"/v1/recipients/{email}/export").status_code == 404, f"{email} was stored"


def refused_naming(response: httpx.Response, *expected: str) -> None:
    assert response.status_code == 422, response.text
    for text in expected:
        assert text in response.text, response.text


def test_control_characters_are_refused_by_the_api_single_and_batch(org):
    for name in (INJECTED, REVERSED, "Sam\x00"):
        one = {
            **shift("cc-1", 2, 2, "one@example.org"),
            "volunteer": {"email": "one@example.org", "name": name},
        }
        response = org.post("/v1/events", json=one)
        refused_naming(response, "must not contain")
        assert response.json()["detail"][0]["loc"][-2:] == ["volunteer", "name"]
        batch = {"events": [shift("cc-2", 2, 2, "two@example.org"), {**one, "id": "cc-3"}]}
        refused_naming(org.post("/v1/events", json=batch), "must not contain")
    refused_naming(org.post("/v1/events", json={**shift("cc-4", 2, 2, "one@example.org"), "site": "a\nb"}))
    nothing_stored_for(org, "one@example.org")
    nothing_stored_for(org, "two@example.org")


def test_control_characters_in_a_csv_are_refused_with_the_row(org):
    rota = "Email,Name,Date,Hours\nthree@example.org,Three,02/11/2026,2\n"
    rota += 'four@example.org,"Four\r\nBcc: x@y.org",02/11/2026,2\n'
    response = org.post("/v1/events/csv", files={"file": ("rota.csv", rota.encode())})
    refused_naming(response, "must not contain")
    [error] = response.json()["detail"]["errors"]
    assert error["row"] == 4 and error["column"] == "Name"
    nothing_stored_for(org, "three@example.org")


def test_control_characters_in_a_yaml_badge_file_are_refused(system, org, tmp_path):
    badges = tmp_path / "badges.yaml"
    badges.write_text(
        'id: evil\nname: "Pantry \\u202eevil"\ndescription: d\ncriteria_narrative: n\n'
        "criteria: {kind: total_hours, at_least: 1}\n"
    )
    key = {"CAIRN_API_KEY": org.headers["Authorization"].removeprefix("Bearer ")}
    refused = system.cairn("badges", "import", str(badges), check=False, env=key)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        "badge class 1: name: Value error, must not contain" in refused.stderr and "U+202E" in refused.stderr
    )
    assert org.get("/v1/badge-classes").json() == []
    bad_badge = ten_hours_badge(id="evil", description="Line one\r\nBcc: x@y.org")
    refused_naming(org.post("/v1/badge-classes", json=bad_badge), "must not contain")


def test_activity_in_the_future_or_before_the_floor_is_refused_with_the_reason(org):
    later = datetime.now(UTC) + timedelta(minutes=30)
    future = {**shift("when-1", 2, 2, "five@example.org"), "started_at": later.isoformat()}
    refused_naming(org.post("/v1/events", json=future), "is in the future")
    year_2030 = {**shift("when-2", 2, 2, "five@example.org"), "started_at": "2030-01-01T09:00:00Z"}
    refused_naming(org.post("/v1/events", json={"events": [year_2030]}), "is in the future")
    ancient = {**shift("when-3", 2, 2, "five@example.org"), "started_at": "1999-06-01T09:00:00Z"}
    refused_naming(org.post("/v1/events", json=ancient), "before 2000-01-01")
    rota = "Email,Date,Hours\nfive@example.org,01/01/2030,2\n"
    response = org.post("/v1/events/csv", files={"file": ("rota.csv", rota.encode())})
    refused_naming(response, "in the future")
    assert response.json()["detail"]["errors"][0]["row"] == 2
    nothing_stored_for(org, "five@example.org")
    just_now = datetime.now(UTC) - timedelta(hours=1)
    assert (
        org.post("/v1/events", json={**shift("when-4", 2, 1), "started_at": just_now.isoformat()}).status_code
        == 202
    )


def _post(connection: http.client.HTTPConnection, body: bytes, key: str) -> tuple[int, str]:
    headers = {"Authorization": key, "Content-Type": "application/json"}
    connection.request("POST", "/v1/events", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"id": "n-1", "type": "volunteer_shift", "volunteer": {"email": "n@example.org"}, '
            b'"started_at": "2026-11-02T09:00:00Z", "hours": NaN}',
            "NaN",
        ),
        (
            b'{"id": "n-2", "type": "volunteer_shift", "volunteer": {"email": "n@example.org"}, '
            b'"started_at": "2026-11-02T09:00:00Z", "hours": Infinity}',
            "Infinity",
        ),
        (
            b'{"id": "n-3", "type": "volunteer_shift", "volunteer": {"email": "n@example.org"}, '
            b'"started_at": "2026-11-02T09:00:00Z", "hours": -Infinity}',
            "-Infinity",
        ),
        (
            b'{"id": "n-4", "type": "volunteer_shift", "volunteer": {"email": "n@example.org"}, '
            b'"started_at": "2026-11-02T09:00:00Z", "hours": 1e999}',
            "1e999 is too large",
        ),
        (b'{"events": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper than 32"),
        (b"[" * 200_000 + b"]" * 200_000, "nested deeper than 32"),
    ],
)
def test_non_finite_or_deep_json_is_a_422_and_the_connection_keeps_working(system, org, body, reason):
    public = urlsplit(system.public_url)
    connection = http.client.HTTPConnection(public.hostname, public.port, timeout=30)
    key = org.headers["Authorization"]
    try:
        status, text = _post(connection, body, key)
        assert status == 422 and reason in text, text
        socket_used = connection.sock
        good = json.dumps(shift(f"after-{reason[:3]}", 4, 1)).encode()
        status, text = _post(connection, good, key)
        assert status == 202, text
        assert connection.sock is socket_used, "the next request went over the same kept-alive connection"
    finally:
        connection.close()
    nothing_stored_for(org, "n@example.org")


def test_admin_api_derives_and_validates_slugs_and_refuses_unsafe_urls(system):
    admin = httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    made = admin.post("/admin/v1/orgs", json={"name": "Café & Co / Soup Kitchen"})
    assert made.status_code == 201 and made.json()["slug"] == "cafe-co-soup-kitchen", made.text
    assert httpx.get(f"{system.public_url}/orgs/cafe-co-soup-kitchen/did.json").status_code == 200
    again = admin.post("/admin/v1/orgs", json={"name": "Cafe-Co, Soup Kitchen"})
    assert again.status_code == 409 and "'cafe-co-soup-kitchen' is taken" in again.text
    refused_naming(
        admin.post("/admin/v1/orgs", json={"name": "Café", "slug": "café-&-co-/-soup-kitchen"}),
        "is not a slug",
    )
    refused_naming(admin.post("/admin/v1/orgs", json={"name": "X", "url": "javascript:alert(1)"}), "url")
    quoted = {"name": "X", "image_url": 'https://example.org/a.png" onerror="alert(1)'}
    refused_naming(admin.post("/admin/v1/orgs", json=quoted), "must not contain U+0022")
    refused_naming(admin.post("/admin/v1/orgs", json={"name": "Sam\r\nBcc: x@y.org"}), "must not contain")


def test_org_profile_refuses_unsafe_urls_and_names(org):
    before = org.get("/v1/org").json()
    refused_naming(org.patch("/v1/org", json={"url": "javascript:alert(1)"}), "url")
    refused_naming(
        org.patch("/v1/org", json={"image_url": "https://example.org/a b.png"}), "must not contain"
    )
    refused_naming(org.patch("/v1/org", json={"name": REVERSED}), "must not contain")
    assert org.get("/v1/org").json() == before
    changed = org.patch("/v1/org", json={"url": "https://hostile.example.org/"})
    assert changed.status_code == 200 and changed.json()["url"] == "https://hostile.example.org/"


def _dashboard(system, org: httpx.Client) -> tuple[httpx.Client, str]:
    dashboard = httpx.Client(base_url=system.public_url, follow_redirects=True, timeout=30)
    key = org.headers["Authorization"].removeprefix("Bearer ")
    assert dashboard.post("/dashboard/sign-in", data={"api_key": key}).status_code == 200
    page = dashboard.get("/dashboard/upload").text
    return dashboard, re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_dashboard_upload_of_a_windows_1252_file_says_how_to_export_it(system, org):
    dashboard, token = _dashboard(system, org)
    rota = "Email,Name,Date,Hours\nzoe@example.org,Zoë Müller,02/11/2026,2\n".encode("cp1252")
    page = dashboard.post("/dashboard/upload", data={"token": token}, files={"file": ("rota.csv", rota)})
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    assert "not UTF-8 text" in page.text and "CSV UTF-8" in page.text
    assert 'id="upload-error"' in page.text and 'name="file"' in page.text, "the form is offered again"
    nothing_stored_for(org, "zoe@example.org")


def test_dashboard_upload_reads_semicolons_and_offers_the_column_mapping(system, org):
    dashboard, token = _dashboard(system, org)
    rota = b"Contact;Name;Date;Hours\nyan@example.org;Yan;02/11/2026;2,5\n"
    page = dashboard.post("/dashboard/upload", data={"token": token}, files={"file": ("rota.csv", rota)})
    assert page.status_code == 200 and "no email column" in page.text
    assert 'id="column-mapping" open' in page.text and '<select id="map_email" name="map_email">' in page.text
    csv_text = rota.decode()
    mapped = {"token": token, "csv_text": csv_text, "map_email": "Contact"}
    preview = dashboard.post("/dashboard/upload", data=mapped)
    assert "1 rows read as volunteer shifts; 0 with errors" in preview.text, preview.text
    assert "<code>Contact</code> → email" in preview.text and "2.5 h" in preview.text
    posted = dashboard.post("/dashboard/upload", data={**mapped, "confirm": "1"})
    assert 'id="posted"' in posted.text
    assert org.get("/v1/recipients/yan@example.org/export").status_code == 200


def test_dashboard_upload_refuses_control_characters_with_the_row(system, org):
    dashboard, token = _dashboard(system, org)
    rota = f"Email,Name,Date,Hours\nxi@example.org,{REVERSED},02/11/2026,2\n".encode()
    page = dashboard.post("/dashboard/upload", data={"token": token}, files={"file": ("rota.csv", rota)})
    assert "Row 2, column “Name”" in page.text and "must not contain" in page.text
    assert 'id="confirm"' not in page.text
    nothing_stored_for(org, "xi@example.org")
