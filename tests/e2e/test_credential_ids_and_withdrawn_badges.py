"""Credential ids in every form the API hands out, and a revoked or suspended badge as its holder
sees it: the claim page, a renewed link and "my badges" say so, with the organisation's reason,
and no email presents it as valid."""

import re

import httpx
import pytest

from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.test_claim_emails import earn, expire_claim_links
from tests.e2e.volunteering import organisation, wait_for_mail, wait_until_consumed

pytestmark = pytest.mark.e2e
STILL_VALID = ["still valid", "You earned a badge", "Email me a fresh link", 'id="download"', 'id="share"']


def test_every_route_and_command_takes_the_full_id_and_the_bare_uuid(system):
    client = organisation(system, "Riverside Food Bank", "riverside-ids")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    bare, _ = earn(system, client, "ida@example.org")
    [listed] = client.get("/v1/credentials").json()
    full = listed["id"]
    assert full == f"urn:uuid:{bare}"
    public = httpx.Client(base_url=system.public_url)

    for given in (full, bare, full.upper().replace("URN:UUID:", "urn:uuid:")):
        for suffix in ("", ".json", ".png", ".svg", ".jwt"):
            assert public.get(f"/credentials/{given}{suffix}").status_code == 200, (given, suffix)
        assert public.get(f"/credentials/{given}.json").json()["id"] == full
        assert f'href="/credentials/{bare}.json"' in public.get(f"/credentials/{given}").text
        assert client.post(f"/v1/credentials/{given}/resend").status_code == 202, given
    png = public.get(f"/credentials/{full}.png")
    assert png.headers["content-disposition"].endswith(f'"badge-{bare}.png"')
    assert public.get("/credentials/urn:uuid:not-a-uuid.json").status_code == 404

    # The organisation API, with the id exactly as it returned it, and the bare uuid.
    suspended = client.post(f"/v1/credentials/{full}/suspend", json={"reason": "checking"})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert client.post(f"/v1/credentials/{bare}/unsuspend", json={}).json()["status"] == "active"

    # The dashboard's forms.
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    dashboard = httpx.Client(base_url=system.public_url)
    assert dashboard.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 303
    token = re.search(r'name="token" value="([^"]+)"', dashboard.get("/dashboard/credentials").text)[1]
    for given, action in ((full, "suspend"), (bare, "unsuspend")):
        done = dashboard.post(f"/dashboard/credentials/{given}/{action}", data={"token": token})
        assert done.status_code == 303, (given, action, done.text)
    assert client.get("/v1/credentials").json()[0]["status"] == "active"

    # The command line.
    assert system.cairn("credentials", "suspend", bare).stdout.strip() == f"{full}: suspended"
    assert system.cairn("credentials", "unsuspend", full).stdout.strip() == f"{full}: active"
    missing = system.cairn("credentials", "revoke", "urn:uuid:not-a-uuid", check=False)
    assert missing.returncode != 0 and "no credential urn:uuid:not-a-uuid" in missing.stderr

    # The example: revoke with the id the API returned.
    revoked = client.post(f"/v1/credentials/{full}/revoke", json={"reason": "awarded by mistake"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


def assert_never_valid(page: httpx.Response, status: str, reason: str) -> None:
    assert page.status_code == 200
    assert f'class="verdict verdict-{status}"' in page.text and reason in page.text
    assert {phrase for phrase in STILL_VALID if phrase in page.text} == set()


def my_badges_page(system, email: str) -> str:
    before = len(read_mailbox(system.mail_dir))
    assert httpx.post(f"{system.public_url}/my-badges", data={"email": email}).status_code == 200
    mail = wait_for_mail(system.mail_dir, before + 1)[-1]
    link = re.search(r"(http://\S+/my-badges/\S+)", mail.get_body(("plain",)).get_content())[1]
    page = httpx.get(link)
    assert page.status_code == 200
    return page.text


def no_new_link_email(system, mails_before: int) -> None:
    wait_until_consumed(system)  # the notifier has worked through whatever it was asked to send
    subjects = [m["Subject"] for m in read_mailbox(system.mail_dir)[mails_before:]]
    assert not [s for s in subjects if s.startswith(("Your new link", "You earned"))], subjects


def test_a_withdrawn_badge_is_never_presented_as_valid_to_its_holder(system):
    client = organisation(system, "Northside Pantry", "northside-withdrawn")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    uuid, link = earn(system, client, "una@example.org")

    # Suspended: the claim page says so with the reason, offers nothing to share or download.
    suspended = client.post(f"/v1/credentials/{uuid}/suspend", json={"reason": "hours being checked"})
    assert suspended.status_code == 200
    assert_never_valid(httpx.get(link), "suspended", "hours being checked")
    assert "Suspended" in httpx.get(link).text
    wallet = httpx.get(f"{link}/wallet")
    assert wallet.status_code == 200 and "lcw.app" not in wallet.headers.get("location", "")
    page = my_badges_page(system, "una@example.org")
    assert "Suspended: Northside Pantry has put this badge on hold. Their reason: hours being checked" in page
    mails_before = len(read_mailbox(system.mail_dir))
    refused = client.post(f"/v1/credentials/{uuid}/resend")
    assert refused.status_code == 409 and "suspended" in refused.json()["detail"]

    # The link expires; renewing it shows the status and sends no "Your new link" email.
    expire_claim_links(system)
    assert_never_valid(httpx.get(link), "suspended", "hours being checked")
    assert_never_valid(httpx.post(f"{link}/renew"), "suspended", "hours being checked")
    no_new_link_email(system, mails_before)

    # Revoked: the same, with the new reason.
    revoked = client.post(f"/v1/credentials/{uuid}/revoke", json={"reason": "awarded by mistake"})
    assert revoked.status_code == 200
    mails_before = len(read_mailbox(system.mail_dir))
    assert_never_valid(httpx.get(link), "revoked", "awarded by mistake")
    renewed = httpx.post(f"{link}/renew")
    assert_never_valid(renewed, "revoked", "awarded by mistake")
    said = "Revoked: Northside Pantry has withdrawn this badge. Their reason: awarded by mistake"
    assert said in renewed.text
    no_new_link_email(system, mails_before)
    page = my_badges_page(system, "una@example.org")
    assert said in page
    assert "still valid" not in page
