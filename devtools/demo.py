"""`cairn demo`: a season at a food bank and a repair café (devtools/demo_season.py), through
the real API: six badge classes, three months of shifts and sessions, a questioned award and a
revoked credential.

It can run again on the same var dir and changes nothing the second time: each organisation is
found by its slug, its API key is kept in var/demo.env (shown each run, not only the first), the
events are dated from the day the demo first ran (also in var/demo.env), so each event id comes
back with the same contents and the pipeline counts it once, a badge class is posted only if it
is missing or different, and the revocation is skipped when it was done.
"""

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from cairn import bootstrap
from cairn.domain.api_keys import all_scopes
from cairn.settings import Settings
from devtools.demo_season import (
    BADGES,
    ORGS,
    REVOKE,
    RIVERSIDE,
    DemoOrg,
    expected_awards,
    people_of,
    questioned,
    season,
    volunteers,
)
from devtools.smtp_sink import read_mailbox
from schemas.badge_class import BadgeClassIn


def demo_env_file(settings: Settings) -> Path:
    return settings.var_dir / "demo.env"


def read_demo_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def write_demo_env(path: Path, values: dict[str, str]) -> None:
    """Only the owner may read it: it holds an API key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    os.chmod(path, 0o600)


async def demo_org(settings: Settings, org: DemoOrg, known: dict[str, str]) -> tuple[str, str, bool]:
    """The demo organisation, a working API key for it, and whether it is new: the key
    var/demo.env names if the database still has it, a new key for the organisation if that
    was lost, or a new organisation on a fresh database."""
    parts = bootstrap.cli(settings)
    try:
        store = parts.store
        await store.create_schema()
        found_org = await store.org_by_slug(org.slug)
        if found_org is None:
            created, api_key = await store.create_org(org.name, org.slug, url=org.url)
            return created.id, api_key, True
        key = known.get(f"{org.env_prefix}_API_KEY", "")
        found = await store.api_key(key) if key else None
        if found is not None and found.org.id == found_org.id:
            return found_org.id, key, False
        _, api_key = await store.create_api_key(found_org.id, "demo", set(all_scopes()))
        return found_org.id, api_key, False
    finally:
        await parts.close()


def as_posted(badge: dict[str, Any]) -> dict[str, Any]:
    """The class as a POST body means it, defaults filled in, to compare with what is stored."""
    fields = BadgeClassIn.model_fields
    return BadgeClassIn.model_validate({k: v for k, v in badge.items() if k in fields}).model_dump(
        mode="json"
    )


def claim_links(mails: list[EmailMessage], emails: set[str]) -> dict[str, str]:
    """The newest claim link each of these people was sent."""
    links = {}
    for mail in mails:
        to = next((e for e in emails if e in str(mail["To"])), None)
        body = mail.get_body(("plain",))
        match = re.search(r"https?://\S+/claim/\S+", body.get_content()) if body else None  # type: ignore[union-attr]
        if to and match:
            links[to] = match.group(0)
    return links


async def publish(
    client: httpx.AsyncClient, badges: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    """Each class only if missing or different (a post makes a new version), then the events."""
    existing = {b["id"]: b for b in (await client.get("/v1/badge-classes")).raise_for_status().json()}
    for badge in badges:
        stored = existing.get(badge["id"])
        if stored is None or as_posted(stored) != as_posted(badge):
            (await client.post("/v1/badge-classes", json=badge)).raise_for_status()
    for n in range(0, len(events), 1000):
        (await client.post("/v1/events", json={"events": events[n : n + 1000]})).raise_for_status()


async def until(check: Callable[[], Awaitable[bool]], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.5)
    return False


async def all_sent(client: httpx.AsyncClient, expected: int) -> bool:
    """Every expected credential signed and its claim email sent (or settled otherwise)."""
    found = (await client.get("/v1/credentials")).raise_for_status().json()
    return len(found) >= expected and all(c["email_status"] not in ("pending", "sending") for c in found)


async def revoke_one(client: httpx.AsyncClient, email: str) -> str | None:
    """Revokes the person's oldest credential of that badge, unless one is revoked already."""
    params = {"badge": REVOKE["badge"], "email": email}
    found = (await client.get("/v1/credentials", params=params)).raise_for_status().json()
    if not found or any(c["status"] == "revoked" for c in found):
        return next((c["id"] for c in found if c["status"] == "revoked"), None)
    uuid = found[0]["id"].removeprefix("urn:uuid:")
    body = {"reason": REVOKE["reason"]}
    (await client.post(f"/v1/credentials/{uuid}/revoke", json=body)).raise_for_status()
    return found[0]["id"]


async def run_demo(settings: Settings, wait_seconds: float = 60) -> dict[str, str]:
    """Seeds the season (or finds it seeded) and prints each organisation's key, dashboard and a
    few claim links; returns every earner's newest claim link."""
    env_file = demo_env_file(settings)
    known = read_demo_env(env_file)
    orgs = {org.slug: await demo_org(settings, org, known) for org in ORGS}
    # the events' dates: from the first run, so the same ids come back with the same contents;
    # an organisation seeded before whose first date was lost has its events already
    first_run = datetime.now(UTC).replace(microsecond=0).isoformat()
    anchor = known.get("CAIRN_DEMO_ANCHOR", "") or (first_run if orgs[RIVERSIDE.slug][2] else "")
    values = {"CAIRN_DEMO_ORG_SLUG": RIVERSIDE.slug, "CAIRN_DEMO_ANCHOR": anchor}
    for org in ORGS:
        values[f"{org.env_prefix}_SLUG"] = org.slug
        values[f"{org.env_prefix}_API_KEY"] = orgs[org.slug][1]
    write_demo_env(env_file, values)
    events = season(datetime.fromisoformat(anchor)) if anchor else {org.slug: [] for org in ORGS}
    deadline = time.monotonic() + wait_seconds
    clients = {
        org.slug: httpx.AsyncClient(
            base_url=settings.public_url, headers={"Authorization": f"Bearer {orgs[org.slug][1]}"}, timeout=30
        )
        for org in ORGS
    }
    try:
        for org in ORGS:
            await publish(clients[org.slug], BADGES[org.slug], events[org.slug])
        print(f"{sum(len(e) for e in events.values())} events (same ids each run); waiting for claim emails…")
        for org in ORGS:
            expected = len(expected_awards(org.slug, events[org.slug]))
            client = clients[org.slug]
            await until(partial(all_sent, client, expected), deadline)
        riverside = clients[RIVERSIDE.slug]
        if anchor:  # a void after the award: the award is questioned, not revoked
            void = questioned(events[RIVERSIDE.slug])
            (await riverside.post("/v1/events", json={"events": [void]})).raise_for_status()

            async def asked() -> bool:
                return bool((await riverside.get("/v1/award-questions")).raise_for_status().json())

            await until(asked, deadline)
        revoked = await revoke_one(clients[REVOKE["org"]], volunteers()[REVOKE["person"]]["email"])
    finally:
        for client in clients.values():
            await client.aclose()
    links = claim_links(read_mailbox(settings.resolved_mail_dir), {p["email"] for p in volunteers()})
    for org in ORGS:
        org_id, api_key, _ = orgs[org.slug]
        # without the first run's date (var/demo.env lost) the people who may hold a link
        awarded = expected_awards(org.slug, events[org.slug]) if events[org.slug] else []
        earners = sorted({email for email, _ in awarded} or {p["email"] for p in people_of(org.slug)})
        print(f"organisation {org.name} (slug {org.slug}, id {org_id}), API key {api_key}")
        print(f"  dashboard: {settings.public_url}/dashboard (sign in with the API key above)")
        for email in [e for e in earners if e in links][:3]:
            print(f"  {email}: {links[email]}")
    print(f"  (keys kept in {env_file}; revoked for the demo: {revoked}; questions on /dashboard/questions)")
    print(f"open a claim link above; the API is documented at {settings.public_url}/docs")
    print(f"volunteers: {settings.public_url}/my-badges (its email lands in {settings.resolved_mail_dir})")
    return links
