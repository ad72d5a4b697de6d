"""What the end-to-end tests do as an organisation and a volunteer: post shifts, wait for mail."""

import re
import time

import httpx

from cairn.smtp import read_mailbox
from tests.conftest import System


def organisation(system: System, name: str, slug: str, *options: str) -> httpx.Client:
    """Creates the organisation; returns an API client holding its key."""
    created = system.cairn("org", "create", name, "--slug", slug, *options).stdout
    api_key = re.search(r"api key (\S+)", created).group(1)
    return httpx.Client(
        base_url=system.public_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )


def shift(event_id: str, day: int, hours: float, email: str = "sam@example.org") -> dict:
    return {
        "id": event_id,
        "type": "volunteer_shift",
        "volunteer": {"email": email, "name": "Sam Okafor"},
        "started_at": f"2026-11-{day:02d}T09:00:00Z",
        "hours": hours,
        "program": "pantry",
    }


def wait_for_progress(client: httpx.Client, email: str, ready, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/recipients/{email}/progress")
        if response.status_code == 200 and ready(response.json()["badges"]):
            return response.json()["badges"]
        time.sleep(0.2)
    raise AssertionError(f"progress for {email} not as expected: {response.status_code} {response.text}")


def wait_for_mail(mail_dir, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = read_mailbox(mail_dir)
        if len(mails) >= count:
            return mails
        time.sleep(0.1)
    raise AssertionError(f"expected {count} emails, got {len(read_mailbox(mail_dir))}")


def claim_link(mail) -> str:
    return re.search(r"(http://\S+/claim/\S+)", mail.get_body(("plain",)).get_content()).group(1)
