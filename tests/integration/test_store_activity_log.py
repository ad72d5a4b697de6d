"""The activity log and credential versions (the badge builder's reads) on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.activity import ActivityVoided, VolunteerShiftLogged
from tests.integration.test_store import store  # noqa: F401 (the fixture, on both backends)

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


async def test_activity_log_keeps_the_first_of_each_id_and_goes_with_erasure(store):  # noqa: F811
    org, _ = await store.create_org("Riverside", "riverside-log")
    other, _ = await store.create_org("Other", "other-log")
    ann = await store.recipient_key_of(org.id, "ann@example.org")
    bo = await store.recipient_key_of(org.id, "bo@example.org")
    await store.upsert_recipients(org.id, {ann: ("ann@example.org", "Ann"), bo: ("bo@example.org", "Bo")})
    first = VolunteerShiftLogged(recipient_key=ann, started_at=AT - timedelta(hours=3), ended_at=AT)
    await store.save_activity(org.id, "s1", first)
    await store.save_activity(org.id, "s1", first.model_copy(update={"program": "changed"}))  # redelivery
    await store.save_activity(org.id, "v1", ActivityVoided(recipient_key=ann, voids="s1", reason="typo"))
    await store.save_activity(org.id, "s1", first.model_copy(update={"recipient_key": bo}))
    histories = await store.activity_histories(org.id)
    assert [(e, d.kind) for e, d in histories[ann]] == [("s1", "volunteer_shift"), ("v1", "activity_voided")]
    assert histories[ann][0][1] == first and [e for e, _ in histories[bo]] == ["s1"]
    assert await store.activity_histories(other.id) == {}
    assert await store.erase_person(org.id, ann)
    assert set(await store.activity_histories(org.id)) == {bo}


async def test_credentials_keep_the_version_they_were_awarded_under(store):  # noqa: F811
    org, _ = await store.create_org("Riverside", "riverside-versions")
    fields = {"org_id": org.id, "badge_class_id": "ten", "recipient_key": "a" * 64, "document": {}}
    made, _ = await store.insert_credential(
        credential_id="urn:uuid:v2", award_id="w2", issued_at=AT, badge_class_version=2, **fields
    )
    old, _ = await store.insert_credential(credential_id="urn:uuid:v0", award_id="w0", issued_at=AT, **fields)
    assert (made.badge_class_version, old.badge_class_version) == (2, None)
    assert (await store.credential("urn:uuid:v2")).badge_class_version == 2
