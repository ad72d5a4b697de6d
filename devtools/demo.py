"""`cairn demo`: a demo food bank, its first badge and a few weeks of shifts, through the real API.

It can run again on the same var dir and changes nothing the second time: the organisation is
found by its slug, its API key is kept in var/demo.env (shown each run, not only the first), the
shifts are dated from the day the demo first ran (also in var/demo.env), so each event id comes
back with the same contents and the pipeline counts it once, and the badge class is posted only
if it is missing or different.
"""

import asyncio
import os
import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from cairn import bootstrap
from cairn.domain.api_keys import all_scopes
from cairn.settings import Settings
from devtools.smtp_sink import read_mailbox
from schemas.badge_class import BadgeClassIn

ORG = {"name": "Riverside Food Bank", "slug": "riverside", "url": "https://riverside.example.org"}
VOLUNTEERS = [
    ("ana@example.org", "Ana", 4, 3.0),  # 12 hours: earns the badge
    ("ben@example.org", "Ben", 5, 2.0),  # 10 hours: earns it exactly
    ("chi@example.org", "Chi", 2, 3.5),  # 7 hours: on the way
]
PANTRY_BADGE = {
    "id": "pantry-10-hours",
    "name": "Pantry volunteer: 10 hours",
    "description": "Gave ten hours sorting and handing out food at the Riverside Food Bank pantry.",
    "criteria_narrative": "Log at least 10 hours of pantry shifts.",
    "criteria": {"kind": "total_hours", "at_least": 10, "filter": {"program": "pantry"}},
}


def demo_shifts(now: datetime) -> list[dict[str, object]]:
    shifts = []
    for email, name, count, hours in VOLUNTEERS:
        for n in range(count):
            start = (now - timedelta(days=7 * (count - n))).replace(hour=9, minute=0, second=0, microsecond=0)
            shifts.append(
                {
                    "id": f"demo-{email.split('@')[0]}-{n}",
                    "type": "volunteer_shift",
                    "volunteer": {"email": email, "name": name},
                    "started_at": start.isoformat(),
                    "hours": hours,
                    "program": "pantry",
                }
            )
    return shifts


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


async def demo_org(settings: Settings, known: dict[str, str]) -> tuple[str, str, bool]:
    """The demo organisation, a working API key for it, and whether it is new: the key
    var/demo.env names if the database still has it, a new key for the organisation if that
    was lost, or a new organisation on a fresh database."""
    parts = bootstrap.cli(settings)
    try:
        store = parts.store
        await store.create_schema()
        org = await store.org_by_slug(ORG["slug"])
        if org is None:
            created, api_key = await store.create_org(ORG["name"], ORG["slug"], url=ORG["url"])
            return created.id, api_key, True
        key = known.get("CAIRN_DEMO_API_KEY", "")
        found = await store.api_key(key) if key else None
        if found is not None and found.org.id == org.id:
            return org.id, key, False
        _, api_key = await store.create_api_key(org.id, "demo", set(all_scopes()))
        return org.id, api_key, False
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


async def run_demo(settings: Settings, wait_seconds: float = 60) -> dict[str, str]:
    """Seeds the demo (or finds it seeded) and prints each earner's claim link; returns them."""
    env_file = demo_env_file(settings)
    known = read_demo_env(env_file)
    org_id, api_key, new = await demo_org(settings, known)
    # the shifts' dates: from the first run, so the same ids come back with the same contents
    first_run = datetime.now(UTC).replace(microsecond=0).isoformat()
    anchor = first_run if new else known.get("CAIRN_DEMO_ANCHOR", "")
    write_demo_env(
        env_file,
        {"CAIRN_DEMO_ORG_SLUG": ORG["slug"], "CAIRN_DEMO_API_KEY": api_key, "CAIRN_DEMO_ANCHOR": anchor},
    )
    print(f"organisation {ORG['name']} (slug {ORG['slug']}, id {org_id}), API key {api_key}")
    print(f"  (kept in {env_file})")
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=settings.public_url, headers=headers, timeout=30) as client:
        existing = (await client.get("/v1/badge-classes")).raise_for_status().json()
        stored = next((b for b in existing if b["id"] == PANTRY_BADGE["id"]), None)
        if stored is None or as_posted(stored) != as_posted(PANTRY_BADGE):  # a post makes a new version
            (await client.post("/v1/badge-classes", json=PANTRY_BADGE)).raise_for_status()
        # an organisation seeded before whose first date was lost has its shifts already: posting
        # them dated anew would give the same ids other contents
        shifts = demo_shifts(datetime.fromisoformat(anchor)) if anchor else []
        if shifts:
            (await client.post("/v1/events", json={"events": shifts})).raise_for_status()
    print(
        f"badge {PANTRY_BADGE['id']} and {len(shifts)} shifts (same ids each run); waiting for claim emails…"
    )
    earners = {email for email, _, count, hours in VOLUNTEERS if count * hours >= 10}
    deadline = time.monotonic() + wait_seconds
    links: dict[str, str] = {}
    while time.monotonic() < deadline:
        links = claim_links(read_mailbox(settings.resolved_mail_dir), earners)
        if set(links) == earners:
            break
        await asyncio.sleep(0.5)
    for email, link in sorted(links.items()):
        print(f"  {email}: {link}")
    print(f"open a claim link above; the API is documented at {settings.public_url}/docs")
    print(f"coordinators: {settings.public_url}/dashboard (sign in with the API key above)")
    print(f"volunteers: {settings.public_url}/my-badges (its email lands in {settings.resolved_mail_dir})")
    return links
