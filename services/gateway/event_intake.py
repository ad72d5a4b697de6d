"""Accepting validated events: contact details into the store, pseudonymous records onto
cairn.activity.v1. Shared by the JSON API, the CSV upload and the dashboard."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from cairn import bus
from cairn.identity import recipient_key
from cairn.store import Store
from cairn.store.store import Org
from schemas.activity import ActivityIn, ActivityRecordValue, activity_from_api, person_of
from schemas.envelope import ACTIVITY_TYPES, CloudEvent


async def accept_events(
    store: Store, producer: AIOKafkaProducer, org: Org, events: Sequence[ActivityIn]
) -> list[str]:
    """Returns the ids once Kafka has acknowledged every record (acks=all)."""
    secret = await store.org_secret(org.id)
    keyed = [(recipient_key(secret, person_of(e).email), e) for e in events]
    await store.upsert_recipients(org.id, {k: (person_of(e).email, person_of(e).name) for k, e in keyed})
    sends = []
    for key, event in keyed:
        envelope = CloudEvent(
            id=event.id,
            source=f"/orgs/{org.slug}",
            type=ACTIVITY_TYPES[event.type],
            subject=key,
            orgid=org.id,
            data=ActivityRecordValue(activity_from_api(event, key)),
        )
        sends.append(
            await producer.send(bus.ACTIVITY, key=f"{org.id}:{key}".encode(), value=bus.encode(envelope))
        )
    await asyncio.gather(*sends)
    return [e.id for e in events]
