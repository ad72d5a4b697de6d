"""The bridge Publisher (cairn.bootstrap.BusPublisher) puts each record where the call sites put
it before the port: same topic, key, envelope id and source. Goes with the bridge at merge."""

from datetime import UTC, datetime

from cairn.adapters.kafka import bus
from cairn.bootstrap import BusPublisher
from schemas.activity import ActivityRecordValue, VolunteerShiftLogged
from schemas.awards import CredentialIssued
from schemas.envelope import CloudEvent

KEY = "a" * 64
ISSUED = CredentialIssued(
    credential_id="urn:uuid:c1",
    award_id="a1",
    org_id="org",
    badge_class_id="b",
    recipient_key=KEY,
    issued_at=datetime(2026, 11, 30, tzinfo=UTC),
)


def test_activity_goes_to_its_topic_keyed_by_org_and_recipient():
    shift = VolunteerShiftLogged(recipient_key=KEY, started_at=datetime(2026, 11, 2, tzinfo=UTC), hours=2)
    record = CloudEvent(
        id="s1", source="/orgs/o", type="t", subject=KEY, orgid="org", data=ActivityRecordValue(shift)
    )
    assert BusPublisher._addressed(record) == (bus.ACTIVITY, f"org:{KEY}".encode(), record)


def test_an_issued_credential_and_its_resend_are_told_apart_by_id_and_source():
    topic, key, envelope = BusPublisher._addressed(ISSUED)
    assert (topic, key, envelope.id, envelope.source) == (
        bus.CREDENTIALS,
        b"urn:uuid:c1",
        "urn:uuid:c1",
        "/signer",
    )
    resend = ISSUED.model_copy(update={"claim_generation": 2})
    _, key, envelope = BusPublisher._addressed(resend)
    assert (key, envelope.id, envelope.source) == (b"urn:uuid:c1", "urn:uuid:c1#resend-2", "/gateway")
    assert envelope.type == "org.cairn.credential.issued.v1" and envelope.data == resend
