"""Organisations on the running system: the admin API, scoped keys, CSV upload, badge images,
a person's export and erasure, limits, and the cross-tenant matrix over every /v1 route."""

import httpx
import pytest

from cairn.domain.badge_images import badge_svg
from devtools.smtp_sink import read_mailbox
from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import shift, wait_for_mail, wait_until

pytestmark = pytest.mark.e2e
ADMIN_TOKEN = "admin-token-for-tests"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


# A refill of one request a second: after the burst, the next request is refused whatever
# the machine's speed (at 10 a second a slow loop could see a token come back).
system = system_with(
    "cairn-orgs", CAIRN_ADMIN_TOKEN=ADMIN_TOKEN, CAIRN_API_BURST="200", CAIRN_API_REQUESTS_PER_MINUTE="60"
)


def new_org(system, slug: str) -> httpx.Client:
    admin = httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    created = admin.post("/admin/v1/orgs", json={"name": slug.title(), "slug": slug})
    assert created.status_code == 201, created.text
    key = created.json()["api_key"]
    return httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_admin_api_needs_the_admin_token(system):
    public = system.public_url
    assert httpx.post(f"{public}/admin/v1/orgs", json={"name": "X", "slug": "xx"}).status_code == 401
    wrong = httpx.post(
        f"{public}/admin/v1/orgs", json={"name": "X", "slug": "xx"}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    new_org(system, "taken")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    again = httpx.post(f"{public}/admin/v1/orgs", json={"name": "T", "slug": "taken"}, headers=admin)
    assert again.status_code == 409
    bad = httpx.post(f"{public}/admin/v1/orgs", json={"name": "T", "slug": "Not A Slug"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "slug"]


def test_scoped_keys_only_do_what_their_scopes_allow(system):
    org = new_org(system, "scoped")
    writer = org.post("/v1/api-keys", json={"name": "rota sync", "scopes": ["events:write"]}).json()
    assert writer["key"].startswith("cairn_") and writer["scopes"] == ["events:write"]
    as_writer = httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {writer['key']}"})
    assert as_writer.post("/v1/events", json=shift("s-1", 1, 2)).status_code == 202
    refused = as_writer.get("/v1/credentials")
    assert refused.status_code == 403 and "lacks the scope 'read'" in refused.json()["detail"]
    assert as_writer.post("/v1/api-keys", json={"name": "x", "scopes": ["read"]}).status_code == 403
    listed = org.get("/v1/api-keys").json()
    assert [k["name"] for k in listed] == ["default", "rota sync"] and "key" not in listed[1]
    assert org.delete(f"/v1/api-keys/{writer['id']}").status_code == 204
    assert as_writer.post("/v1/events", json=shift("s-2", 2, 2)).status_code == 401


def test_csv_upload_preview_then_post_with_row_errors(system):
    org = new_org(system, "csv-org")
    assert org.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    good = (
        "E-mail,Volunteer Name,Shift Date,Time In,Time Out\nivy@example.org,Ivy,02/11/2026,09:00,14:00\n"
        "ivy@example.org,Ivy,03/11/2026,09:00,14:00\n"
    )
    bad = good + "nobody,Nobody,04/11/2026,09:00,10:00\n"
    preview = org.post("/v1/events/csv", params={"dry_run": True}, files={"file": ("rota.csv", bad)}).json()
    assert preview["rows"] == 2 and preview["accepted"] == []
    assert preview["errors"] == [{"row": 4, "column": "E-mail", "message": preview["errors"][0]["message"]}]
    refused = org.post("/v1/events/csv", files={"file": ("rota.csv", bad)})
    assert refused.status_code == 422 and refused.json()["detail"]["errors"][0]["row"] == 4
    before = len(read_mailbox(system.mail_dir))
    posted = org.post("/v1/events/csv", files={"file": ("rota.csv", good)}).json()
    assert len(posted["accepted"]) == 2 and posted["columns"]["start"] == "Time In"
    mail = wait_for_mail(system.mail_dir, before + 1)[-1]
    assert "Ivy" in mail["To"]
    again = org.post("/v1/events/csv", files={"file": ("rota.csv", good)}).json()
    assert again["accepted"] == posted["accepted"], "the same file gives the same ids: idempotent"


def test_cli_imports_a_rota_file_in_batches(system, tmp_path):
    org = new_org(system, "cli-import")
    key = {"CAIRN_API_KEY": org.headers["Authorization"].removeprefix("Bearer ")}
    rows = "\n".join(f"v{n}@example.org,2026-11-{1 + n % 28:02d},{1 + n % 3}" for n in range(1200))
    rota = tmp_path / "rota.csv"
    rota.write_text("Email,Date,Hours\n" + rows + "\n")
    done = system.cairn("events", "import", str(rota), env=key)
    assert done.stdout.splitlines()[-1] == "posted 1200 events"
    assert "posting" in done.stderr and "1200/1200" in done.stderr, "a progress bar"
    (tmp_path / "bad.csv").write_text("Email,Date,Hours\nx@example.org,2026-11-01,3\nnope,2026-11-02,3\n")
    refused = system.cairn("events", "import", str(tmp_path / "bad.csv"), check=False, env=key)
    assert refused.returncode == 1 and "row 3, column Email" in refused.stderr


def test_badge_images_upload_png_or_sanitised_svg(system):
    org = new_org(system, "images")
    badge = ten_hours_badge(glyph="clock", shape="hexagon")
    assert org.post("/v1/badge-classes", json=badge).status_code == 201
    image_url = f"{system.public_url}/orgs/images/badges/ten-hours/image"
    drawn = httpx.get(image_url)
    assert drawn.headers["content-type"] == "image/svg+xml"
    assert drawn.text == badge_svg(badge["name"], "#2e6b4f", glyph="clock", shape="hexagon", key="ten-hours")
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="4" height="4"/></svg>'
    )
    assert org.put("/v1/badge-classes/ten-hours/image", files={"file": ("b.svg", svg)}).status_code == 204
    served = httpx.get(image_url)
    assert "<rect" in served.text and "script" not in served.text
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert org.put("/v1/badge-classes/ten-hours/image", files={"file": ("b.png", PNG_1PX)}).status_code == 204
    assert httpx.get(image_url).content == PNG_1PX
    huge = org.put("/v1/badge-classes/ten-hours/image", files={"file": ("b.png", PNG_1PX + b"\0" * 300_000)})
    assert huge.status_code == 413
    junk = org.put("/v1/badge-classes/ten-hours/image", files={"file": ("b.gif", b"GIF89a")})
    assert junk.status_code == 422 and "PNG or an SVG" in junk.json()["detail"]
    assert org.put("/v1/badge-classes/nope/image", files={"file": ("b.png", PNG_1PX)}).status_code == 404


def test_export_then_erase_a_person(system):
    """The routes; what erasure does to credentials, links and later emails is the service
    tier's (tests/service/test_erasure.py), without waiting for a badge here."""
    org = new_org(system, "privacy")
    assert org.post("/v1/events", json=shift("jo-1", 1, 5, email="jo@example.org")).status_code == 202
    exported = org.get("/v1/recipients/jo@example.org/export").json()
    assert exported["contact"]["email"] == "jo@example.org" and exported["credentials"] == []
    assert org.delete("/v1/recipients/jo@example.org").status_code == 204
    assert org.get("/v1/recipients/jo@example.org/export").status_code == 404
    assert org.delete("/v1/recipients/jo@example.org").status_code == 404


def test_limits(system):
    org = new_org(system, "limits")
    big = {"events": [shift(f"b-{n}", 1, 1) for n in range(1001)]}
    assert org.post("/v1/events", json=big).status_code == 422
    huge = org.post(
        "/v1/events",
        content=b"{" + b" " * (6 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    # A key that has made no request yet has its whole burst (200) to spend.
    fresh = org.post("/v1/api-keys", json={"name": "burst", "scopes": ["read"]}).json()["key"]
    reader = httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {fresh}"})
    statuses = [reader.get("/v1/org").status_code for _ in range(260)]
    assert statuses.count(429) > 0 and statuses[:200].count(200) == 200
    limited = reader.get("/v1/org")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_cross_tenant_matrix(system):
    """Organisation A's key, used on organisation B's resources, on every /v1 route: a 403 or
    404 (or A's own data only), and B's data unchanged."""
    a, b = new_org(system, "tenant-a"), new_org(system, "tenant-b")
    for org in (a, b):
        assert org.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    b_only = ten_hours_badge(id="b-only", name="B only", criteria={"kind": "total_hours", "at_least": 50})
    assert b.post("/v1/badge-classes", json=b_only).status_code == 201
    b_manual = ten_hours_badge(id="b-manual", name="B by hand", criteria=None, manual_only=True)
    assert b.post("/v1/badge-classes", json=b_manual).status_code == 201
    hook = {"url": "https://hooks.example.org/b", "events": ["credential.issued"]}
    b_endpoint = b.post("/v1/webhooks", json=hook).json()["id"]
    before = len(read_mailbox(system.mail_dir))
    events = [shift(f"kim-{d}", d, 5, email="kim@example.org") for d in (1, 2)]
    assert b.post("/v1/events", json={"events": events}).status_code == 202
    wait_for_mail(system.mail_dir, before + 1)
    [b_credential] = b.get("/v1/credentials").json()
    b_uuid = b_credential["id"].removeprefix("urn:uuid:")
    void = {
        "id": "void-kim-2",
        "type": "activity_voided",
        "voids": "kim-2",
        "reason": "twice",
        "volunteer": {"email": "kim@example.org"},
    }
    assert b.post("/v1/events", json=void).status_code == 202
    [b_question] = wait_until(lambda: b.get("/v1/award-questions").json(), bool, "B's question never arrived")
    b_key_id = b.get("/v1/api-keys").json()[0]["id"]
    [b_delivery] = wait_until(
        lambda: b.get(f"/v1/webhooks/{b_endpoint}/deliveries").json(), bool, "B's webhook delivery never came"
    )
    b_delivery = b_delivery["id"]

    def b_state() -> dict:
        return {
            "credentials": b.get("/v1/credentials").json(),
            "classes": b.get("/v1/badge-classes").json(),
            "keys": b.get("/v1/api-keys").json(),
            "org": b.get("/v1/org").json(),
            "person": b.get("/v1/recipients/kim@example.org/export").json(),
            "progress": b.get("/v1/recipients/kim@example.org/progress").json(),
            "questions": b.get("/v1/award-questions").json(),
            "webhooks": b.get("/v1/webhooks").json(),
        }

    before_state = b_state()
    direct_award = {"recipients": [{"email": "lee@example.org"}], "narrative": "x", "idempotency_key": "k1"}
    csv = {"file": ("x.csv", "Email,Date,Hours\nlee@example.org,2026-11-05,3\n")}  # A's own volunteer
    png = {"file": ("b.png", PNG_1PX)}
    # (method, route, how A calls it on B's resources, the answers that keep B safe)
    matrix = [
        (
            "POST",
            "/v1/events",
            lambda: a.post("/v1/events", json=shift("lee-x", 5, 3, email="lee@example.org")),
            {202},
        ),
        ("POST", "/v1/events/csv", lambda: a.post("/v1/events/csv", files=csv), {200}),
        ("GET", "/v1/badge-classes", lambda: a.get("/v1/badge-classes"), {200}),
        (
            "PUT",
            "/v1/badge-classes/{badge_id}/image",
            lambda: a.put("/v1/badge-classes/b-only/image", files=png),
            {404},
        ),
        (
            "POST",
            "/v1/badge-classes",
            lambda: a.post("/v1/badge-classes", json=ten_hours_badge(id="b-only")),
            {201},
        ),
        (
            "GET",
            "/v1/recipients/{email}/progress",
            lambda: a.get("/v1/recipients/kim@example.org/progress"),
            {404},
        ),
        (
            "GET",
            "/v1/recipients/{email}/export",
            lambda: a.get("/v1/recipients/kim@example.org/export"),
            {404},
        ),
        ("DELETE", "/v1/recipients/{email}", lambda: a.delete("/v1/recipients/kim@example.org"), {404}),
        ("GET", "/v1/credentials", lambda: a.get("/v1/credentials"), {200}),
        (
            "POST",
            "/v1/credentials/{credential_uuid}/resend",
            lambda: a.post(f"/v1/credentials/{b_uuid}/resend"),
            {404},
        ),
        (
            "POST",
            "/v1/credentials/{credential_uuid}/{action}",
            lambda: a.post(f"/v1/credentials/{b_uuid}/revoke", json={"reason": "x"}),
            {404},
        ),
        ("GET", "/v1/org", lambda: a.get("/v1/org"), {200}),
        ("PATCH", "/v1/org", lambda: a.patch("/v1/org", json={"name": "Hijacked"}), {200}),
        ("GET", "/v1/api-keys", lambda: a.get("/v1/api-keys"), {200}),
        (
            "POST",
            "/v1/api-keys",
            lambda: a.post("/v1/api-keys", json={"name": "k", "scopes": ["read"]}),
            {201},
        ),
        ("DELETE", "/v1/api-keys/{key_id}", lambda: a.delete(f"/v1/api-keys/{b_key_id}"), {404}),
        ("POST", "/v1/verify", lambda: a.post("/v1/verify", json={}), {200}),
        ("GET", "/v1/award-questions", lambda: a.get("/v1/award-questions"), {200}),
        (
            "POST",
            "/v1/award-questions/{award_id}/keep",
            lambda: a.post(f"/v1/award-questions/{b_question['award_id']}/keep"),
            {404},
        ),
        (
            "POST",
            "/v1/badge-classes/{badge_id}/awards",
            lambda: a.post("/v1/badge-classes/b-manual/awards", json=direct_award),
            {404},
        ),
        ("PUT", "/v1/org/logo", lambda: a.put("/v1/org/logo", files=png), {200}),
        ("GET", "/v1/webhooks", lambda: a.get("/v1/webhooks"), {200}),
        ("POST", "/v1/webhooks", lambda: a.post("/v1/webhooks", json=hook), {201}),
        ("DELETE", "/v1/webhooks/{endpoint_id}", lambda: a.delete(f"/v1/webhooks/{b_endpoint}"), {404}),
        (
            "GET",
            "/v1/webhooks/{endpoint_id}/deliveries",
            lambda: a.get(f"/v1/webhooks/{b_endpoint}/deliveries"),
            {404},
        ),
        (
            "GET",
            "/v1/webhooks/deliveries/{delivery_id}",
            lambda: a.get(f"/v1/webhooks/deliveries/{b_delivery}"),
            {404},
        ),
        (
            "POST",
            "/v1/webhooks/deliveries/{delivery_id}/replay",
            lambda: a.post(f"/v1/webhooks/deliveries/{b_delivery}/replay"),
            {404},
        ),
    ]
    for method, route, call, allowed in matrix:
        response = call()
        assert response.status_code in allowed, f"{method} {route}: {response.status_code} {response.text}"
    for suffix in ("suspend", "unsuspend"):
        assert a.post(f"/v1/credentials/{b_uuid}/{suffix}", json={}).status_code == 404

    # A saw only its own data, and B's is as it was.
    assert a.get("/v1/credentials").json() == [] and a.get("/v1/award-questions").json() == []
    assert a.get("/v1/org").json()["slug"] == "tenant-a" and b.get("/v1/org").json()["name"] == "Tenant-B"
    assert b_state() == before_state

    # Every organisation route of the API is in the matrix.
    spec = httpx.get(f"{system.public_url}/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() if p.startswith("/v1/") for m in ops}
    assert routes == {(m, r) for m, r, _, _ in matrix}
