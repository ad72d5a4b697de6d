"""The dashboard pages of issue 12 over a real SQLite store (no Kafka: the publisher keeps what
it is given): settings (profile, logo, API keys), the volunteer's page and its actions, the
overview's counts, and questioned awards naming the void."""

import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cairn.adapters.store import open_store
from cairn.domain.badge_images import badge_png
from cairn.usecases.intake import accept_events
from schemas.activity import ActivityVoided, OrgActivity
from schemas.awards import AwardQuestioned, Evidence
from schemas.badge_class import BadgeClassIn
from tests.integration.volunteers_at_scale import app_over
from tests.service.fakes import FakePublisher
from tests.service.flow import shift, void

pytestmark = pytest.mark.integration
ISSUED = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
async def desk(tmp_path):
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}", secrets.token_bytes(32))
    await store.create_schema()
    org, api_key = await store.create_org("Riverside", "riverside")
    await store.save_badge_class(
        org.id,
        BadgeClassIn(
            id="ten-hours",
            name="Pantry: 10 hours",
            description="d",
            criteria_narrative="n",
            criteria={"kind": "total_hours", "at_least": 10},
        ),
    )
    publisher = FakePublisher()
    app = app_over(store)
    app.state.publisher = publisher
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cairn.test"
    ) as client:
        assert (await client.post("/dashboard/sign-in", data={"api_key": api_key})).status_code == 303
        yield client, store, org, publisher
    await store.close()


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page)[1]


async def test_the_profile_is_saved_through_the_apis_contract(desk):
    client, store, org, _ = desk
    page = (await client.get("/dashboard/settings")).text
    token = token_of(page)
    form = {
        "token": token,
        "name": "Riverside Food Bank",
        "url": "https://riverside.example",
        "email": "hi@riverside.example",
        "colour": "#1d4e89",
        "timezone": "Europe/London",
    }
    bad = await client.post(
        "/dashboard/settings/profile", data={**form, "colour": "blue", "timezone": "Mars/Base"}
    )
    assert (
        bad.status_code == 422 and 'id="problem-colour"' in bad.text and 'id="problem-timezone"' in bad.text
    )
    assert (await store.org(org.id)).colour != "blue"
    saved = await client.post("/dashboard/settings/profile", data=form)
    assert saved.status_code == 303
    now = await store.org(org.id)
    assert (now.name, now.url, now.email) == (
        "Riverside Food Bank",
        "https://riverside.example/",
        "hi@riverside.example",
    )
    assert (now.colour, now.timezone) == ("#1d4e89", "Europe/London")
    assert (await client.post("/dashboard/settings/profile", data={**form, "url": ""})).status_code == 303
    assert (await store.org(org.id)).url is None, "a cleared URL is removed"


async def test_a_logo_upload_becomes_the_profiles_image(desk):
    client, store, org, _ = desk
    token = token_of((await client.get("/dashboard/settings")).text)
    png = badge_png("Logo", "#1d4e89")
    answer = await client.post(
        "/dashboard/settings/logo", data={"token": token}, files={"logo": ("logo.png", png, "image/png")}
    )
    assert answer.status_code == 303
    assert (await store.org(org.id)).image_url == "http://cairn.test/orgs/riverside/logo"
    served = await client.get("/orgs/riverside/logo")
    assert (
        served.status_code == 200 and served.content == png and served.headers["content-type"] == "image/png"
    )
    script = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    refused = await client.post(
        "/dashboard/settings/logo", data={"token": token}, files={"logo": ("x.txt", b"hello", "text/plain")}
    )
    assert refused.status_code == 422 and 'id="problem-logo"' in refused.text
    cleaned = await client.post(
        "/dashboard/settings/logo", data={"token": token}, files={"logo": ("l.svg", script, "image/svg+xml")}
    )
    assert cleaned.status_code == 303 and b"script" not in (await client.get("/orgs/riverside/logo")).content


async def test_an_api_key_is_shown_once_listed_and_revocable(desk):
    client, store, org, _ = desk
    token = token_of((await client.get("/dashboard/settings")).text)
    refused = await client.post(
        "/dashboard/settings/keys", data={"token": token, "key_name": "rota", "scopes": []}
    )
    assert refused.status_code == 422 and 'id="problem-scopes"' in refused.text
    made = await client.post(
        "/dashboard/settings/keys",
        data={"token": token, "key_name": "rota sync", "scopes": ["events:write", "read"]},
    )
    assert made.status_code == 201
    key = re.search(r'id="new-key-value">([^<]+)<', made.text)[1]
    info = await store.api_key(key)
    assert info.name == "rota sync" and info.scopes == {"events:write", "read"} and info.org.id == org.id
    listing = (await client.get("/dashboard/settings")).text
    assert "rota sync" in listing and key not in listing, "shown once"
    revoked = await client.post(f"/dashboard/settings/keys/{info.id}/revoke", data={"token": token})
    assert revoked.status_code == 303 and await store.api_key(key) is None
    assert "revoked" in (await client.get("/dashboard/settings")).text
    async with httpx.AsyncClient(transport=client._transport, base_url="http://cairn.test") as reader:
        _, read_key = await store.create_api_key(org.id, "viewer", {"read"})
        await reader.post("/dashboard/sign-in", data={"api_key": read_key})
        assert (await reader.get("/dashboard/settings")).status_code == 403
        assert 'id="nav-settings"' not in (await reader.get("/dashboard")).text


async def test_the_volunteers_page_voids_revokes_and_shows_it(desk):
    client, store, org, publisher = desk
    await accept_events(
        store, publisher, org, [shift("s1", "sam@example.org", 0, 4), shift("s2", "sam@example.org", 2, 8)]
    )
    sam = await store.recipient_key_of(org.id, "sam@example.org")
    listing = (await client.get("/dashboard/volunteers?q=SAM")).text
    assert f'data-key="{sam}"' in listing and "1 volunteer " in listing
    page = (await client.get(f"/dashboard/volunteers/{sam}")).text
    assert page.count('<tr class="activity"') == 2 and "Pantry: 10 hours" in page
    token = token_of(page)
    blank = await client.post(
        f"/dashboard/volunteers/{sam}/void", data={"token": token, "event_id": "s1", "reason": " "}
    )
    assert blank.status_code == 422 and 'id="void-error"' in blank.text and not publisher.of(OrgActivity)[2:]
    done = await client.post(
        f"/dashboard/volunteers/{sam}/void", data={"token": token, "event_id": "s1", "reason": "wrong day"}
    )
    assert done.status_code == 303
    [record] = [r for r in publisher.of(OrgActivity) if isinstance(r.activity.root, ActivityVoided)]
    assert (record.activity.root.voids, record.activity.root.reason) == ("s1", "wrong day")
    page = (await client.get(done.headers["location"])).text
    assert 'class="activity voided"' in page and "voided: “wrong day”" in page and "taken back" in page
    again = await client.post(
        f"/dashboard/volunteers/{sam}/void", data={"token": token, "event_id": "s1", "reason": "x"}
    )
    assert again.status_code == 422 and "already" in again.text

    await store.status_index(org.id, "urn:uuid:0b1c2d3e-0000-4000-8000-000000000001")
    await store.insert_credential(
        credential_id="urn:uuid:0b1c2d3e-0000-4000-8000-000000000001", award_id="a1", org_id=org.id,
        badge_class_id="ten-hours", recipient_key=sam, document={"name": "Pantry: 10 hours"},
        issued_at=ISSUED,
    )  # fmt: skip
    action = f"/dashboard/volunteers/{sam}/credentials/0b1c2d3e-0000-4000-8000-000000000001/revoke"
    refused = await client.post(action, data={"token": token, "reason": ""})
    assert refused.status_code == 422 and 'id="action-error"' in refused.text
    revoked = await client.post(action, data={"token": token, "reason": "awarded by mistake"})
    assert revoked.status_code == 303
    credential = await store.credential("urn:uuid:0b1c2d3e-0000-4000-8000-000000000001")
    assert (credential.status, credential.status_reason) == ("revoked", "awarded by mistake")
    assert "Revoked “Pantry: 10 hours” of Sam." in (await client.get(revoked.headers["location"])).text


async def test_the_overview_counts_live_badges_claims_and_failed_emails(desk):
    client, store, org, _ = desk
    for n, status in enumerate(["sent", "sent", "bounced", "failed", "sent"]):
        credential_id = f"urn:uuid:0b1c2d3e-0000-4000-8000-00000000000{n}"
        await store.status_index(org.id, credential_id)
        await store.insert_credential(
            credential_id=credential_id, award_id=f"a{n}", org_id=org.id, badge_class_id="ten-hours",
            recipient_key=f"{n:064x}", document={}, issued_at=ISSUED,
        )  # fmt: skip
        await store.record_notification(credential_id, f"<m{n}>", status)
    token = store.claim_token_for("urn:uuid:0b1c2d3e-0000-4000-8000-000000000000")
    await store.ensure_claim_token("urn:uuid:0b1c2d3e-0000-4000-8000-000000000000", token, timedelta(days=1))
    await store.claim(token)
    await store.change_status(
        org.id, "urn:uuid:0b1c2d3e-0000-4000-8000-000000000004", "revoked", "x", {}, lambda p, b: {}
    )
    page = (await client.get("/dashboard")).text
    counts = re.search(r'<span class="counts" data-badge="ten-hours">(.*?)</span>\s*</div>', page, re.S)[1]
    text = re.sub(r"<[^>]+>", "", counts)
    assert text == "4 awarded · 1 claimed · 1 emails bounced · 1 failed · 1 revoked", text


async def test_a_questioned_award_names_the_badge_the_voided_activity_and_the_reason(desk):
    client, store, org, publisher = desk
    await accept_events(store, publisher, org, [shift("s1", "sam@example.org", 0, 10)])
    await accept_events(store, publisher, org, [void("v1", "s1", "sam@example.org", "logged twice")])
    sam = await store.recipient_key_of(org.id, "sam@example.org")
    evidence = [Evidence(measure="hours", achieved=0, required=10)]
    question = AwardQuestioned(
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten-hours",
        recipient_key=sam,
        reason="r",
        evidence=evidence,
    )
    await store.save_question(question)
    page = (await client.get("/dashboard/questions")).text
    row = page.split('<tr class="question"')[1]
    assert 'class="badge-name">Pantry: 10 hours<' in row and "ten-hours<" not in row
    assert re.search(r'class="voided-activity">shift on \d{4}-\d\d-\d\d \(10 h\)<', row)
    assert 'class="void-reason">logged twice<' in row
    assert 'name="reason" value="logged twice"' in row, "revoking offers the void's reason"


async def test_the_api_takes_a_logo_as_the_dashboard_does(desk):
    client, store, org, _ = desk
    _, admin = await store.create_api_key(org.id, "admin", {"org:admin", "read"})
    _, reader = await store.create_api_key(org.id, "reader", {"read"})
    png = badge_png("Logo", "#336699")
    files = {"file": ("logo.png", png, "image/png")}
    refused = await client.put("/v1/org/logo", files=files, headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    answer = await client.put("/v1/org/logo", files=files, headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200 and answer.json()["image_url"] == "http://cairn.test/orgs/riverside/logo"
    assert (await client.get("/orgs/riverside/logo")).content == png
    bad = {"file": ("logo.gif", b"GIF89a", "image/gif")}
    assert (
        await client.put("/v1/org/logo", files=bad, headers={"Authorization": f"Bearer {admin}"})
    ).status_code == 422
    assert (await client.get("/orgs/nobody/logo")).status_code == 404
