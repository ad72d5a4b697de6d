"""The one activity history (as the badge builder reads it) and credential versions, on SQLite
and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from cairn.domain.volunteers import activity_entry
from schemas.activity import ActivityData, ActivityVoided, VolunteerShiftLogged
from tests.integration.test_store import store  # noqa: F401 (the fixture, on both backends)

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


async def test_the_one_history_keeps_the_first_of_each_id_per_person_and_goes_with_erasure(store):  # noqa: F811
    """What the badge builder's preview reads: the rows the gateway wrote at intake, with the record."""
    org, _ = await store.create_org("Riverside", "riverside-log")
    other, _ = await store.create_org("Other", "other-log")
    ann = await store.recipient_key_of(org.id, "ann@example.org")
    bo = await store.recipient_key_of(org.id, "bo@example.org")
    await store.upsert_recipients(org.id, {ann: ("ann@example.org", "Ann"), bo: ("bo@example.org", "Bo")})
    first = VolunteerShiftLogged(recipient_key=ann, started_at=AT - timedelta(hours=3), ended_at=AT)

    async def accept(event_id: str, data: ActivityData) -> None:
        await store.record_activities(org.id, [activity_entry(event_id, data, AT + timedelta(hours=1))])

    await accept("v0", ActivityVoided(recipient_key=bo, voids="s1", reason="not Ann's"))  # Bo's, early
    await accept("s1", first)
    await accept("s1", first.model_copy(update={"program": "changed"}))  # posted again
    await accept("v1", ActivityVoided(recipient_key=ann, voids="s1", reason="typo"))
    await accept("s1", first.model_copy(update={"recipient_key": bo}))  # the same id, Bo's own
    histories = await store.activity_histories(org.id)
    assert [(e, d.kind) for e, d in histories[ann]] == [("s1", "volunteer_shift"), ("v1", "activity_voided")]
    assert histories[ann][0][1] == first and [e for e, _ in histories[bo]] == ["s1", "v0"]
    assert "example.org" not in repr(histories)
    # each person's void marks only their own activity, whichever came first
    assert (await store.activity(org.id, "s1", ann)).voided_by == "v1"
    assert (await store.activity(org.id, "s1", bo)).voided_by == "v0"
    assert [e.event_id for e in await store.activity_history(org.id, bo)] == ["v0", "s1"]
    assert await store.activity_histories(other.id) == {}
    assert await store.erase_person(org.id, ann)
    assert set(await store.activity_histories(org.id)) == {bo}
    assert await store.activity(org.id, "s1", ann) is None


async def test_credentials_keep_the_version_they_were_awarded_under(store):  # noqa: F811
    org, _ = await store.create_org("Riverside", "riverside-versions")
    fields = {"org_id": org.id, "badge_class_id": "ten", "recipient_key": "a" * 64, "document": {}}
    made, _ = await store.insert_credential(
        credential_id="urn:uuid:v2", award_id="w2", issued_at=AT, badge_class_version=2, **fields
    )
    old, _ = await store.insert_credential(credential_id="urn:uuid:v0", award_id="w0", issued_at=AT, **fields)
    assert (made.badge_class_version, old.badge_class_version) == (2, None)
    assert (await store.credential("urn:uuid:v2")).badge_class_version == 2
