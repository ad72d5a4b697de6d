"""Direct awards: a coordinator names the people and the reason, and the awards go onto
cairn.awards.v1 like the criteria engine's, so the signer and the notifier treat them alike.
Idempotent by key: the award ids come from the key, and the first post of a key is kept."""

import hashlib
import json
from dataclasses import dataclass

from cairn.domain.identity import recipient_key
from cairn.domain.records import DirectAwardRecord, Org
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from schemas.awards import AwardGranted, credential_id_for, direct_award_id_for
from schemas.direct_awards import DirectAwardAccepted, DirectAwardIn, DirectAwardMade


class NoSuchBadge(LookupError):
    """The organisation has no badge class of that id."""


class KeyReused(ValueError):
    """The idempotency key was used before for another badge, other people or another narrative."""


@dataclass(frozen=True)
class _Keyed:
    email: str
    name: str | None
    key: str


def _digest(badge_class_id: str, keys: list[str], narrative: str) -> str:
    """What makes two posts of one key the same award: the badge, the people and the reason."""
    text = json.dumps([badge_class_id, sorted(keys), narrative], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def award_directly(
    store: Store,
    publisher: Publisher,
    org: Org,
    badge_class_id: str,
    body: DirectAwardIn,
    clock: Clock = SYSTEM_CLOCK,
) -> DirectAwardAccepted:
    """Publishes one AwardGranted per recipient (with the narrative as evidence) once Kafka has
    acknowledged them all. A repeat of the key publishes the same awards again, with the same
    ids, version and time: the signer issues each award once, so nothing new is issued, and an
    earlier post that stopped before Kafka acknowledged is completed."""
    badge = await store.badge_class(org.id, badge_class_id)
    if badge is None:
        raise NoSuchBadge(badge_class_id)
    secret = await store.org_secret(org.id)
    people = [_Keyed(p.email, p.name, recipient_key(secret, p.email)) for p in body.recipients]
    digest = _digest(badge.id, [p.key for p in people], body.narrative)
    stored, created = await store.claim_direct_award(
        DirectAwardRecord(
            org_id=org.id,
            idempotency_key=body.idempotency_key,
            badge_class_id=badge.id,
            badge_class_version=badge.version,
            digest=digest,
            recipients=len(people),
            created_at=clock.now().replace(microsecond=0),
        )
    )
    if stored.digest != digest:
        raise KeyReused(
            f"idempotency_key {body.idempotency_key!r} was used for another award "
            f"({stored.badge_class_id}, {stored.recipients} recipients); choose a new key"
        )
    await store.upsert_recipients(org.id, {p.key: (p.email, p.name) for p in people})
    languages = {p.key: r.language for p, r in zip(people, body.recipients, strict=True) if r.language}
    if languages:  # in the store with the contact details, never on Kafka
        await store.set_recipient_languages(org.id, languages)
    awards = [
        AwardGranted(
            award_id=direct_award_id_for(org.id, badge.id, p.key, body.idempotency_key),
            org_id=org.id,
            badge_class_id=badge.id,
            badge_class_version=stored.badge_class_version,
            recipient_key=p.key,
            occurrence=1,
            earned_at=stored.created_at,
            evidence=[],
            narrative=body.narrative,
        )
        for p in people
    ]
    await publisher.publish_all(awards)
    return DirectAwardAccepted(
        badge_class_id=badge.id,
        idempotency_key=body.idempotency_key,
        replayed=not created,
        awards=[
            DirectAwardMade(email=p.email, award_id=a.award_id, credential_id=credential_id_for(a.award_id))
            for p, a in zip(people, awards, strict=True)
        ],
    )
