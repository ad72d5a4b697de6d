"""Makes tests/data/store/before-migrations.db: a SQLite database as Cairn made it before it had
schema migrations (commit f6774c0), holding one organisation with its API key and issuer key,
a badge class, a recipient, a credential with its status list entry, and a claim token.

tests/integration/test_migrations.py upgrades a copy of it with today's code and checks that
everything in it still works. The file is made once and committed; to make it again, run this
script at the commit before migrations (the test needs the database that code made, not today's):

    git worktree add /tmp/old f6774c0 && cp tests/data/store/make_fixture.py /tmp/old/
    cd /tmp/old && /path/to/.venv/bin/python make_fixture.py /path/to/tests/data/store/

It writes before-migrations.db and before-migrations.json (the master key, the API key and the
claim token in the clear, which the test needs: test data, not secrets).
"""

import asyncio
import base64
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cairn.adapters.store import open_store
from cairn.usecases.issuing import issue_credential
from cairn.usecases.status_changes import status_list_document
from schemas.awards import AwardGranted, Evidence
from schemas.badge_class import BadgeClassIn

PUBLIC_URL = "https://badges.example.org"


async def make(folder: Path) -> None:
    database = folder / "before-migrations.db"
    database.unlink(missing_ok=True)
    master_key = secrets.token_bytes(32)
    store = open_store(f"sqlite+aiosqlite:///{database}", master_key)
    await store.create_schema()
    org, api_key = await store.create_org(
        "Riverside Food Bank", "riverside", url="https://riverside.example.org"
    )
    badge = await store.save_badge_class(
        org.id,
        BadgeClassIn(
            id="pantry-10",
            name="Pantry: 10 hours",
            description="Ten hours at the pantry.",
            criteria_narrative="Log 10 hours of shifts.",
            criteria={"kind": "total_hours", "at_least": 10},
        ),
    )
    recipient_key = await store.recipient_key_of(org.id, "sam@example.org")
    await store.upsert_recipients(org.id, {recipient_key: ("sam@example.org", "Sam")})
    award = AwardGranted(
        award_id="11111111-2222-4333-8444-555555555555",
        org_id=org.id,
        badge_class_id=badge.id,
        badge_class_version=badge.version,
        recipient_key=recipient_key,
        occurrence=1,
        earned_at=datetime(2026, 11, 28, 13, tzinfo=UTC),
        evidence=[Evidence(measure="hours", achieved=12, required=10, seconds=43200)],
    )
    issued = await issue_credential(store, award, PUBLIC_URL)
    credential = await store.credential_by_award(award.award_id)
    assert credential is not None
    claim_token = store.claim_token_for(credential.id)
    await store.ensure_claim_token(credential.id, claim_token, timedelta(days=3650))
    for purpose in ("revocation", "suspension"):  # the signed lists, as a verifier's fetch makes them
        await status_list_document(store, org, purpose, PUBLIC_URL)
    await store.close()
    facts = {
        "made_at": datetime.now(UTC).isoformat(),
        "public_url": PUBLIC_URL,
        "master_key": base64.b64encode(master_key).decode(),
        "org_id": org.id,
        "org_slug": org.slug,
        "api_key": api_key,
        "credential_id": credential.id,
        "claim_token": claim_token,
        "issued": issued.model_dump(mode="json"),
    }
    (folder / "before-migrations.json").write_text(json.dumps(facts, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(make(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)))
