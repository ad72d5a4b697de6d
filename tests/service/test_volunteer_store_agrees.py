"""The fake store's volunteer list, history and badge counts answer as the real store's (over
an SQLite file): one scenario against both must give the same answers."""

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cairn.adapters.keyring import Keyring
from cairn.adapters.store import open_store
from cairn.domain.volunteers import ActivityEntry, VolunteerQuery
from schemas.awards import BadgeProgress, Evidence, ProgressUpdated
from tests.service.fakes_store import FakeStore

MASTER_KEY = secrets.token_bytes(32)
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _shift(event_id: str, key: str, day: int, label: str = "pantry") -> ActivityEntry:
    return ActivityEntry(event_id, key, "volunteer_shift", T0 + timedelta(days=day), 3600, label)


def _void(event_id: str, voids: str, key: str, day: int) -> ActivityEntry:
    at = T0 + timedelta(days=day)
    return ActivityEntry(event_id, key, "activity_voided", at, voids=voids, reason="twice")


async def _scenario(store: Any) -> list[Any]:
    answers: list[Any] = []
    say = answers.append
    org, _ = await store.create_org("Riverside", "riverside")
    keys = {n: await store.recipient_key_of(org.id, f"v{n}@example.org") for n in range(1, 13)}
    await store.upsert_recipients(
        org.id, {k: (f"v{n}@example.org", f"Volunteer {n}") for n, k in keys.items()}
    )
    await store.upsert_recipients(org.id, {keys[12]: ("v12@example.org", "ada Zed")})  # a rename re-sorts
    await store.record_activities(org.id, [_shift(f"s{n}", keys[n], n % 5) for n in range(1, 11)])
    await store.record_activities(org.id, [_void("v1", "s3", keys[3], 9), _void("v0", "later", keys[4], 9)])
    await store.record_activities(org.id, [_shift("later", keys[4], 1), _shift("s3", keys[3], 0)])
    await store.record_activities(org.id, [_void("bad", "s5", keys[6], 9)])  # not their activity
    say(await store.activity_history(org.id, keys[3]))
    say(await store.activity_history(org.id, keys[4]))
    say((await store.activity(org.id, "s5"), await store.activity(org.id, "nope")))
    for n, achieved in [(2, 8), (5, 3), (7, 10)]:
        figures = [Evidence(measure="hours", achieved=achieved, required=10)]
        badge = BadgeProgress(
            badge_class_id="ten",
            badge_class_version=1,
            name="Ten",
            awarded=achieved >= 10,
            questioned=False,
            figures=figures,
        )
        await store.save_progress(
            ProgressUpdated(org_id=org.id, recipient_key=keys[n], as_of=T0, badges=[badge])
        )
    for query in [
        VolunteerQuery(per_page=5),
        VolunteerQuery(per_page=5, page=3),
        VolunteerQuery(search="VOLUNTEER 1"),
        VolunteerQuery(search="v1%"),
        VolunteerQuery(sort="recent", per_page=6),
        VolunteerQuery(sort="closest", per_page=4),
    ]:
        page = await store.volunteer_page(org.id, query)
        say((page.total, page.pages, page.rows))
    say(sorted((await store.progress_of(org.id, [keys[2], keys[3]])).items()))
    for n, status in [(1, "sent"), (2, "bounced"), (3, "failed")]:
        credential_id = f"urn:uuid:c{n}"
        await store.status_index(org.id, credential_id)
        await store.insert_credential(
            credential_id=credential_id, award_id=f"a{n}", org_id=org.id, badge_class_id="ten",
            recipient_key=keys[n], document={"name": "Ten"}, issued_at=T0 + timedelta(hours=n),
        )  # fmt: skip
        await store.record_notification(credential_id, f"<m{n}>", status)
    token = store.claim_token_for("urn:uuid:c1")
    await store.ensure_claim_token("urn:uuid:c1", token, timedelta(days=1))
    await store.claim(token)
    await store.change_status(org.id, "urn:uuid:c3", "revoked", "x", {}, lambda purpose, bits: {})
    say([c.id for c in await store.credentials_of(org.id, [keys[1], keys[3]])])
    say(await store.badge_stats(org.id))
    await store.erase_person(org.id, keys[3])
    say(await store.activity_history(org.id, keys[3]))
    named = [repr(answer) for answer in answers]  # each organisation has its own secret, so its own keys
    for n, key in keys.items():
        named = [text.replace(key, f"<volunteer {n}>") for text in named]
    return named


async def test_the_fake_volunteer_store_answers_as_the_real_one(tmp_path: Path) -> None:
    real = open_store(f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}", MASTER_KEY)
    await real.create_schema()
    try:
        expected = await _scenario(real)
    finally:
        await real.close()
    actual = await _scenario(FakeStore(Keyring(MASTER_KEY)))
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"answer {step} differs"
