"""Accepting validated events: contact details into the store, pseudonymous records onto
cairn.activity.v1. Shared by the JSON API, the CSV upload and the dashboard."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from cairn.adapters.kafka import bus
from cairn.adapters.store import Store
from cairn.domain.identity import recipient_key
from cairn.domain.records import Org
from cairn.settings import Settings
from schemas.activity import (
    ACTIVITY_WINDOW,
    ActivityIn,
    ActivityRecordValue,
    ActivityWindow,
    activity_from_api,
    person_of,
)
from schemas.envelope import ACTIVITY_TYPES, CloudEvent


def activity_window(settings: Settings) -> ActivityWindow:
    """When activity arriving now may have happened (CAIRN_ACTIVITY_FLOOR up to now plus
    CAIRN_CLOCK_SKEW_MINUTES)."""
    skew = timedelta(minutes=settings.clock_skew_minutes)
    return ActivityWindow.around(datetime.now(UTC), skew, settings.activity_floor)


def intake_context(settings: Settings) -> dict[str, ActivityWindow]:
    """The validation context for event bodies arriving now (see schemas.activity.ActivityWindow)."""
    return {ACTIVITY_WINDOW: activity_window(settings)}


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
