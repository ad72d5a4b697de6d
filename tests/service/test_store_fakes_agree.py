"""The dict-backed FakeStore answers as the real Store does: one scenario runs against both (the
real one over an SQLite file) and must give the same answers; and both fit the store ports."""

import dataclasses
import inspect
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cairn import ports
from cairn.adapters.keyring import Keyring
from cairn.adapters.store import Store, open_store
from cairn.credentials.multikey import public_key_multibase
from cairn.credentials.status_list import get_bit
from cairn.domain.records import CheckInRecord, CheckInSessionRecord, DirectAwardRecord
from cairn.domain.volunteers import activity_entry
from cairn.domain.webhooks import Attempt, Delivery
from schemas.activity import ActivityVoided, VolunteerShiftLogged
from schemas.awards import BadgeProgress, ProgressUpdated
from schemas.badge_class import BadgeClassIn
from tests.service.fakes_store import FakeStore

MASTER_KEY = secrets.token_bytes(32)
ISSUED_AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
BADGE = BadgeClassIn(
    id="ten-hours",
    name="Ten hours",
    description="d",
    criteria_narrative="n",
    criteria={"kind": "total_hours", "at_least": 10},
)
STORE_PORTS = [
    ports.OrganisationStore,
    ports.CredentialStore,
    ports.EarnerStore,
    ports.ReadModelStore,
    ports.DirectAwardStore,
    ports.CheckInStore,
    ports.WebhookStore,
    ports.VolunteerStore,
    ports.ActivityLogStore,
]


def _signed_list(purpose: str, bits: bytes) -> dict[str, Any]:
    return {"purpose": purpose, "set": [i for i in range(64) if get_bit(bits, i)]}


async def _scenario(store: Any) -> list[Any]:
    """What a store answers through one organisation's life: keys, badges, a credential, its
    claim link and email, a revocation, an unsubscribe, an export and an erasure."""
    answers: list[Any] = []
    say = answers.append
    org, api_key = await store.create_org("Riverside", "riverside", email="hi@riverside.example")
    say((org.name, org.slug, org.email, org.colour, org.timezone))
    found = await store.api_key(api_key)
    say((found.org == org, sorted(found.scopes), await store.api_key(api_key + "x")))
    with pytest.raises(ValueError, match="unknown scopes: root"):
        await store.create_api_key(org.id, "bad", {"read", "root"})
    _, read_key = await store.create_api_key(org.id, "reader", {"read"})
    say(sorted((await store.api_key(read_key)).scopes))
    say(
        (
            (await store.org_by_slug("riverside")) == org,
            await store.org_by_slug("nope"),
            await store.org("nope"),
        )
    )
    say(len(await store.org_secret(org.id)))
    sam = await store.recipient_key_of(org.id, "Sam@Example.org")
    say(sam == await store.recipient_key_of(org.id, "sam@example.org "))

    # issuer keys
    first = await store.issuer_public_keys(org.id)
    say((len(first), public_key_multibase((await store.issuer_key(org.id)).public_key()) == first[-1]))
    rotated = await store.rotate_issuer_key(org.id)
    keys = await store.issuer_public_keys(org.id)
    say(
        (
            len(keys),
            keys[-1] == rotated,
            public_key_multibase((await store.issuer_key(org.id)).public_key()) == rotated,
        )
    )
    _, thumbprint = await store.jwt_key(org.id, "RS256")
    say(((await store.jwt_key(org.id, "RS256"))[1] == thumbprint, len(await store.issuer_jwks(org.id))))

    # badge classes
    await store.save_badge_class(org.id, BADGE)
    second = await store.save_badge_class(org.id, BADGE.model_copy(update={"name": "Ten!"}), "Europe/London")
    say((second.version, second.timezone, (await store.badge_class(org.id, "ten-hours")).name))
    say(((await store.badge_class(org.id, "ten-hours", 1)).name, await store.badge_class(org.id, "nine")))
    say([(b.id, b.version) for b in await store.badge_classes(org.id)])

    # direct awards: the first post of a key is kept
    direct = DirectAwardRecord(org.id, "voty-2026", "ten-hours", 2, "d" * 64, 3, ISSUED_AT)
    kept, created = await store.claim_direct_award(direct)
    say((kept == direct, created))
    other = DirectAwardRecord(org.id, "voty-2026", "x", 1, "e" * 64, 1, ISSUED_AT + timedelta(hours=2))
    kept, created = await store.claim_direct_award(other)
    say((kept == direct, created))
    later = DirectAwardRecord(
        org.id, "a-later-one", "ten-hours", 2, "f" * 64, 1, ISSUED_AT + timedelta(hours=1)
    )
    await store.claim_direct_award(later)
    say([a.idempotency_key for a in await store.direct_awards(org.id)])

    # check-in: sessions, once per person, status changes once
    code = store.check_in_code("sess-1")
    say((code, store.check_in_code_matches("sess-1", code), store.check_in_code_matches("sess-2", code)))
    for number, start in (("1", ISSUED_AT), ("2", ISSUED_AT + timedelta(days=7))):
        await store.create_check_in_session(
            CheckInSessionRecord(
                f"sess-{number}", org.id, "bike", number, start, start + timedelta(hours=2), False, ISSUED_AT
            )
        )
    say([(s.id, s.session) for s in await store.check_in_sessions(org.id)])
    say(((await store.check_in_session("sess-1")).starts_at, await store.check_in_session("nope")))
    first = CheckInRecord("c1", "sess-1", org.id, "k" * 64, "pending", ISSUED_AT)
    say(((await store.add_check_in(first))[0] == first, (await store.add_check_in(first))[1]))
    kept, created = await store.add_check_in(
        CheckInRecord("c2", "sess-1", org.id, "k" * 64, "posted", ISSUED_AT)
    )
    say((kept == first, created))
    say((await store.set_check_in_status("c1", "pending", "posted")).status)
    say(await store.set_check_in_status("c1", "pending", "removed"))
    say([(c.id, c.status, c.checked_in_at) for c in await store.check_ins("sess-1")])

    # recipients
    await store.upsert_recipients(org.id, {sam: ("sam@example.org", None)})
    salt = (await store.recipient(org.id, sam)).salt
    await store.upsert_recipients(org.id, {sam: ("sam@example.org", "Sam")})
    contact = await store.recipient(org.id, sam)
    say(
        (
            contact.email,
            contact.name,
            contact.salt == salt,
            contact.unsubscribed,
            await store.recipient(org.id, "x"),
        )
    )
    say([(r.email, r.name) for r in await store.recipients(org.id)])
    say((contact.language, org.language))
    await store.set_recipient_languages(org.id, {sam: "es-MX", "unknown": "fr"})
    await store.upsert_recipients(org.id, {sam: ("sam@example.org", "Sam O.")})  # keeps the language
    say(((await store.recipient(org.id, sam)).language, await store.recipient(org.id, "unknown")))
    say([(r.email, r.language) for r in await store.recipients(org.id)])

    # a credential, issued once however often its award comes
    index = await store.status_index(org.id, "urn:uuid:c1")
    say(index == await store.status_index(org.id, "urn:uuid:c1"))
    fields = {
        "award_id": "a1",
        "org_id": org.id,
        "badge_class_id": "ten-hours",
        "recipient_key": sam,
        "document": {"id": "urn:uuid:c1"},
        "issued_at": ISSUED_AT,
    }
    made, created = await store.insert_credential(credential_id="urn:uuid:c1", **fields)
    again, created_again = await store.insert_credential(credential_id="urn:uuid:c1", **fields)
    say((made == again, created, created_again, made.status, made.status_reason, made.issued_at))
    say(((await store.credential("urn:uuid:c1")) == made, (await store.credential_by_award("a1")) == made))
    say([c.id for c in await store.credentials(org.id, status="active")])
    versioned, _ = await store.insert_credential(
        credential_id="urn:uuid:c2", **{**fields, "award_id": "a2"}, badge_class_version=2
    )
    say((made.badge_class_version, versioned.badge_class_version))
    say((await store.credential("urn:uuid:c2")).badge_class_version)

    # the one activity history, as the builder reads it: first record of an id per person kept, voids too
    ann = await store.recipient_key_of(org.id, "ann@example.org")
    shift = VolunteerShiftLogged(
        recipient_key=sam, started_at=ISSUED_AT - timedelta(hours=3), ended_at=ISSUED_AT, program="pantry"
    )
    void = ActivityVoided(recipient_key=sam, voids="e1", reason="typo")
    await store.record_activities(org.id, [activity_entry("e1", shift, ISSUED_AT)])
    again = shift.model_copy(update={"program": "other"})
    await store.record_activities(org.id, [activity_entry("e1", again, ISSUED_AT)])
    await store.record_activities(org.id, [activity_entry("e2", void, ISSUED_AT + timedelta(hours=1))])
    theirs = shift.model_copy(update={"recipient_key": ann})
    await store.record_activities(org.id, [activity_entry("e1", theirs, ISSUED_AT)])
    of_ann, of_sam = await store.activity(org.id, "e1", ann), await store.activity(org.id, "e1", sam)
    say([(e.recipient_key == ann, e.label, e.voided_by) for e in (of_ann, of_sam)])
    histories = await store.activity_histories(org.id)
    say(
        {
            key == sam: [(e, d.model_dump(mode="json", exclude={"recipient_key"})) for e, d in events]
            for key, events in histories.items()
        }
    )
    say(await store.activity_histories("other-org"))

    # its claim email and link
    token = store.claim_token_for("urn:uuid:c1")
    say(token)  # the same master key gives the same link in both
    await store.ensure_claim_token("urn:uuid:c1", token, timedelta(days=30))
    claim = await store.claim(token)
    say((claim.credential.id, claim.expired, (await store.claim("nope")).credential))
    await store.record_notification("urn:uuid:c1", "<m0>", "sending")
    say(await store.mark_handed_over("urn:uuid:c1", 0, 2, True))  # not this sender's attempt
    say(await store.mark_handed_over("urn:uuid:c1", 0, 1, True))
    handed = await store.notification("urn:uuid:c1")
    say((handed.status, handed.attempts, handed.sent_at is not None))
    say(await store.mark_handed_over("urn:uuid:c1", 0, 1, False))
    back = await store.notification("urn:uuid:c1")
    say((back.status, back.attempts, back.sent_at))
    await store.record_notification("urn:uuid:c1", "<m0>", "sent")
    say(await store.mark_handed_over("urn:uuid:c1", 0, 2, False))  # a sent email stays sent
    sent = await store.notification("urn:uuid:c1")
    say((sent.status, sent.attempts, sent.generation, sent.sent_at is not None, sent.last_error))
    resent = store.claim_token_for("urn:uuid:c1", 1)
    await store.ensure_claim_token("urn:uuid:c1", resent, timedelta(days=30), generation=1)
    await store.record_notification("urn:uuid:c1", "<m1>", "bounced", "550 no", generation=1)
    bounced = (await store.notifications(["urn:uuid:c1", "urn:uuid:none"]))["urn:uuid:c1"]
    say((bounced.status, bounced.attempts, bounced.generation, bounced.message_id, bounced.last_error))
    say(((await store.claim(token)).credential, (await store.claim(resent)).credential.id))
    expired = store.claim_token_for("urn:uuid:c1", 2)
    await store.ensure_claim_token("urn:uuid:c1", expired, timedelta(seconds=-1), generation=2)
    say((await store.claim(expired)).expired)

    # revoking it flips its bit in both lists, as one change
    revoked = await store.change_status(
        org.id,
        "urn:uuid:c1",
        "revoked",
        "by mistake",
        {"revocation": True, "suspension": False},
        _signed_list,
    )
    say((revoked.status, revoked.status_reason, (await store.credential("urn:uuid:c1")).status))
    revocation = await store.status_list(org.id, "revocation")
    say(
        (
            get_bit(revocation.bits, index),
            revocation.document["purpose"],
            await store.status_list(org.id, "x"),
        )
    )
    with pytest.raises(LookupError):
        await store.change_status(org.id, "urn:uuid:none", "revoked", None, {}, _signed_list)

    # unsubscribing
    say(await store.unsubscribe(org.id, sam, "wrong"))
    say(await store.unsubscribe(org.id, sam, store.unsubscribe_code(org.id, sam)))
    say((await store.recipient(org.id, sam)).unsubscribed)

    # progress, export, erasure
    badges = [
        BadgeProgress(
            badge_class_id="ten-hours",
            badge_class_version=2,
            name="Ten!",
            awarded=False,
            questioned=False,
            figures=[],
        )
    ]
    await store.save_progress(
        ProgressUpdated(org_id=org.id, recipient_key=sam, as_of=ISSUED_AT, badges=badges)
    )
    older = ISSUED_AT - timedelta(days=1)
    await store.save_progress(ProgressUpdated(org_id=org.id, recipient_key=sam, as_of=older, badges=[]))
    say((await store.progress(org.id, sam)).badges)
    exported = await store.person_export(org.id, sam)
    exported["contact"]["unsubscribed_at"] = exported["contact"]["unsubscribed_at"] is not None
    say(exported)
    say((await store.erase_person(org.id, sam), await store.erase_person(org.id, sam)))
    kept = await store.credential("urn:uuid:c1")
    say((await store.recipient(org.id, sam), kept.status, kept.recipient_key != sam))
    say(((await store.claim(resent)).credential, await store.progress(org.id, sam)))
    say(await store.person_export(org.id, sam))
    say(sorted(key == ann for key in await store.activity_histories(org.id)))
    return answers


async def test_the_fake_store_answers_as_the_real_one(tmp_path: Path) -> None:
    real = open_store(f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}", MASTER_KEY)
    await real.create_schema()
    try:
        expected = await _scenario(real)
    finally:
        await real.close()
    fake = FakeStore(Keyring(MASTER_KEY))
    actual = await _scenario(fake)
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"answer {step} differs"


def _plain(delivery: Delivery) -> Delivery:
    """Without the ids each store draws at random."""
    return dataclasses.replace(delivery, org_id="org", endpoint_id="endpoint")


async def _webhook_scenario(store: Any) -> list[Any]:
    """Endpoints (secret shown once, kept sealed), a delivery added twice, its attempts logged
    only in order, the log newest first, removal."""
    answers: list[Any] = []
    say = answers.append
    org, _ = await store.create_org("Riverside", "riverside")
    endpoint, secret = await store.create_webhook_endpoint(
        org.id,
        "https://a.example/h",
        ["credential.issued", "award.questioned", "credential.issued"],
        True,
        "x",
    )
    say((endpoint.url, endpoint.events, endpoint.include_email, endpoint.disabled_at))
    say((secret.startswith("whsec_"), await store.webhook_secret(endpoint.id) == secret))
    say([e.id for e in await store.webhook_endpoints(org.id)] == [endpoint.id])
    made = Delivery(
        "d1",
        org.id,
        endpoint.id,
        "msg_1",
        "credential.issued",
        {"a": 1},
        0,
        None,
        "pending",
        0,
        None,
        ISSUED_AT,
    )
    first, again = await store.add_webhook_delivery(made), await store.add_webhook_delivery(made)
    say([(_plain(d), new) for d, new in (first, again)])
    one = Attempt(1, ISSUED_AT, 500, "down", 12)
    later = ISSUED_AT + timedelta(seconds=5)
    say(await store.record_webhook_attempt("d1", Attempt(2, ISSUED_AT, 200, "", 1), "delivered", None))
    say(await store.record_webhook_attempt("d1", one, "retrying", later))
    say(await store.record_webhook_attempt("d1", one, "retrying", later))
    say(_plain(await store.webhook_delivery("d1")))
    newer = Delivery(
        "d2", org.id, endpoint.id, "msg_1", "credential.issued", {}, 1, "d1", "pending", 0, None, later
    )
    await store.add_webhook_delivery(newer)
    say([d.id for d in await store.webhook_deliveries(org.id)])
    say([d.id for d in await store.webhook_deliveries(org.id, "other")])
    say(
        (
            await store.disable_webhook_endpoint("other-org", endpoint.id),
            len(await store.webhook_endpoints(org.id)),
        )
    )
    # erasure takes the person's email out of the stored payloads
    kim = await store.recipient_key_of(org.id, "kim@example.org")
    await store.upsert_recipients(org.id, {kim: ("kim@example.org", "Kim")})
    data = {"recipient_key": kim, "email": "kim@example.org"}
    with_email = dataclasses.replace(made, id="d3", message_id="msg_3", payload={"data": data})
    await store.add_webhook_delivery(with_email)
    say(await store.erase_person(org.id, kim))
    say(sorted((await store.webhook_delivery("d3")).payload["data"]))
    say(await store.disable_webhook_endpoint(org.id, endpoint.id))
    say(
        (
            await store.webhook_endpoints(org.id),
            (await store.webhook_endpoint(endpoint.id)).disabled_at is None,
        )
    )
    return answers


async def test_the_fake_webhook_tables_answer_as_the_real_ones(tmp_path: Path) -> None:
    real = open_store(f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}", MASTER_KEY)
    await real.create_schema()
    try:
        expected = await _webhook_scenario(real)
    finally:
        await real.close()
    actual = await _webhook_scenario(FakeStore(Keyring(MASTER_KEY)))
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"answer {step} differs"


def _signature(method: Any) -> inspect.Signature:
    return inspect.signature(method).replace(return_annotation=inspect.Signature.empty)


@pytest.mark.parametrize("port", STORE_PORTS, ids=lambda port: port.__name__)
def test_the_real_store_has_every_port_method_with_its_signature(port: type) -> None:
    for name, method in inspect.getmembers(port, inspect.isfunction):
        if not name.startswith("_"):
            assert _signature(getattr(Store, name)) == _signature(method), name


@pytest.mark.parametrize("port", STORE_PORTS, ids=lambda port: port.__name__)
def test_what_the_fake_has_of_each_port_has_the_ports_signature(port: type) -> None:
    for name, method in inspect.getmembers(port, inspect.isfunction):
        if not name.startswith("_") and hasattr(FakeStore, name):
            assert _signature(getattr(FakeStore, name)) == _signature(method), name


def test_the_keyring_has_every_method_of_its_port() -> None:
    keyring = Keyring(MASTER_KEY)
    for name, method in inspect.getmembers(ports.Keyring, inspect.isfunction):
        if not name.startswith("_"):
            assert _signature(getattr(keyring, name)) == _signature(method.__get__(keyring)), name
