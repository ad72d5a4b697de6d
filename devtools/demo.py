"""`cairn demo`: a demo food bank, its first badge and a few weeks of shifts, through the real API."""

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import httpx

from cairn.bootstrap import create_org
from cairn.settings import Settings
from devtools.smtp_sink import read_mailbox
from schemas.admin import OrgCreateIn

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


async def run_demo(settings: Settings, wait_seconds: float = 60) -> None:
    slug = f"riverside-{int(time.time())}"
    org = OrgCreateIn.model_validate(
        {"name": "Riverside Food Bank", "slug": slug, "url": "https://riverside.example.org"}
    )
    org_id, api_key = await create_org(settings, org)
    print(f"organisation Riverside Food Bank ({org_id}), API key {api_key}")
    already = len(read_mailbox(settings.resolved_mail_dir))
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=settings.public_url, headers=headers, timeout=30) as client:
        (await client.post("/v1/badge-classes", json=PANTRY_BADGE)).raise_for_status()
        shifts = demo_shifts(datetime.now(UTC))
        (await client.post("/v1/events", json={"events": shifts})).raise_for_status()
    print(f"posted badge {PANTRY_BADGE['id']} and {len(shifts)} shifts; waiting for the claim emails…")
    expected = sum(1 for _, _, count, hours in VOLUNTEERS if count * hours >= 10)
    deadline = time.monotonic() + wait_seconds
    mails = []
    while time.monotonic() < deadline:
        mails = read_mailbox(settings.resolved_mail_dir)[already:]
        if len(mails) >= expected:
            break
        await asyncio.sleep(0.5)
    for mail in mails:
        link = re.search(r"https?://\S+/claim/\S+", mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        print(f"  {mail['To']}: {link.group(0) if link else '(no link)'}")
    print(f"open a claim link above; the API is documented at {settings.public_url}/docs")
    print(f"coordinators: {settings.public_url}/dashboard (sign in with the API key above)")
    print(f"volunteers: {settings.public_url}/my-badges (its email lands in {settings.resolved_mail_dir})")
