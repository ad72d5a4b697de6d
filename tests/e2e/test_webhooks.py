"""Webhooks through the whole system (`cairn dev`, real broker): an organisation registers a
loopback endpoint (allowed by the dev/test setting), a volunteer earns a badge, and the signed
credential.issued message reaches the receiver (after one 500 and a retry); the claim and the
revocation follow; the delivery log shows every attempt; a replay sends the same message again;
the dashboard page shows the log. Production refusals (http, private addresses) are checked too."""

import json
import re
import time

import httpx
import pytest

from cairn.domain.webhooks import verify_signature
from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, shift, wait_for_mail, wait_until
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.e2e

hooked = system_with(
    "webhooks",
    CAIRN_WEBHOOK_ALLOW_LOOPBACK="true",
    CAIRN_WEBHOOK_RETRY_DELAYS="[1, 1, 1, 1, 1, 1, 1]",
    CAIRN_WEBHOOK_TIMEOUT_SECONDS="2",
)


def _messages(hook, kind: str) -> list:
    return [r for r in hook.accepted() if json.loads(r.body)["type"] == kind]


def test_issued_claimed_revoked_reach_the_receiver_signed(hooked):
    client = organisation(hooked, "Riverside Food Bank", "riverside-hooks")
    refused = [
        client.post("/v1/webhooks", json={"url": url, "events": ["credential.issued"]})
        for url in ("https://10.1.2.3/hook", "https://169.254.169.254/latest", "ftp://example.org/x")
    ]
    assert [r.status_code for r in refused] == [422, 422, 422]
    with receiver("fail") as hook:
        created = client.post(
            "/v1/webhooks",
            json={
                "url": hook.url,
                "events": ["credential.issued", "credential.claimed", "credential.revoked"],
                "description": "rota tool",
            },
        )
        assert created.status_code == 201
        endpoint = created.json()
        secret = endpoint["secret"]
        assert secret.startswith("whsec_")
        assert client.get("/v1/webhooks").json()[0]["secret"] is None  # shown once only

        assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
        started = time.monotonic()
        events = [shift(f"hook-{day}", day, 5, email="kim@example.org") for day in (1, 2)]
        assert client.post("/v1/events", json={"events": events}).status_code == 202
        wait_until(lambda: _messages(hook, "credential.issued"), bool, "credential.issued never accepted", 60)
        took = time.monotonic() - started
        [issued] = _messages(hook, "credential.issued")
        assert verify_signature(secret, issued.headers, issued.body)
        payload = json.loads(issued.body)["data"]
        assert payload["badge"]["name"] == "Pantry volunteer: 10 hours"
        assert "kim@example.org" not in issued.body.decode()
        uuid = payload["credential_id"].removeprefix("urn:uuid:")

        # the volunteer opens the claim link; the organisation revokes
        link = claim_link(wait_for_mail(hooked.mail_dir, 1)[-1])
        assert httpx.get(link).status_code == 200
        wait_until(lambda: _messages(hook, "credential.claimed"), bool, "credential.claimed never came", 30)
        assert client.post(f"/v1/credentials/{uuid}/revoke", json={"reason": "left"}).status_code == 200
        wait_until(lambda: _messages(hook, "credential.revoked"), bool, "credential.revoked never came", 30)
        assert all(verify_signature(secret, r.headers, r.body) for r in hook.accepted())

        # the receiver has each message; the service records the answer just after it
        kinds = ("credential.issued", "credential.claimed", "credential.revoked")
        log = wait_until(
            lambda: client.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json(),
            lambda found: {d["event_type"]: d["status"] for d in found} == dict.fromkeys(kinds, "delivered"),
            "every delivery recorded as delivered",
            30,
        )
        by_type = {d["event_type"]: d for d in log}
        first = by_type["credential.issued"]
        assert first["status"] == "delivered"
        assert [(a["attempt"], a["status_code"]) for a in first["attempts"]] == [(1, 500), (2, 200)]
        assert first["attempts"][0]["answer"] == "database down"

        # replay: the same message (webhook-id and body) arrives again
        replayed = client.post(f"/v1/webhooks/deliveries/{first['id']}/replay")
        assert replayed.status_code == 202 and replayed.json()["replay_of"] == first["id"]
        wait_until(lambda: len(_messages(hook, "credential.issued")) == 2, bool, "replay never came", 30)
        again = _messages(hook, "credential.issued")[1]
        assert again.headers["webhook-id"] == issued.headers["webhook-id"] and again.body == issued.body

        # the dashboard's delivery log
        api_key = client.headers["Authorization"].removeprefix("Bearer ")
        dashboard = httpx.Client(base_url=hooked.public_url)
        assert dashboard.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 303
        page = dashboard.get("/dashboard/webhooks").text
        assert hook.url in page and "database down" in page
        assert len(re.findall(r'class="delivery"', page)) == 4
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
        form = {"token": token, "events": ["award.questioned"], "description": "CRM"}
        refused = dashboard.post("/dashboard/webhooks", data={**form, "url": "http://crm.example/hook"})
        assert refused.status_code == 422 and "https://" in refused.text
        added = dashboard.post("/dashboard/webhooks", data={**form, "url": "https://crm.example/hook"})
        assert added.status_code == 201
        shown = re.search(r'id="secret-value">(whsec_[^<]+)<', added.text).group(1)
        assert shown not in dashboard.get("/dashboard/webhooks").text  # shown once
        assert [e["url"] for e in client.get("/v1/webhooks").json()][-1] == "https://crm.example/hook"
    print(f"\nwebhook e2e: events posted -> credential.issued accepted (after a 500) in {took:.2f}s")
