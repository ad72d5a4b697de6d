"""Accepting validated events: contact details into the store, pseudonymous records onto
cairn.activity.v1. Shared by the JSON API, the CSV upload and the dashboard."""

from collections.abc import Sequence
from datetime import timedelta

from cairn.domain.identity import recipient_key
from cairn.domain.records import Org
from cairn.domain.volunteers import activity_entry
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from cairn.settings import Settings
from schemas.activity import (
    ACTIVITY_WINDOW,
    ActivityIn,
    ActivityRecordValue,
    ActivityWindow,
    OrgActivity,
    activity_from_api,
    person_of,
)


def activity_window(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> ActivityWindow:
    """When activity arriving now may have happened (CAIRN_ACTIVITY_FLOOR up to now plus
    CAIRN_CLOCK_SKEW_MINUTES)."""
    skew = timedelta(minutes=settings.clock_skew_minutes)
    return ActivityWindow.around(clock.now(), skew, settings.activity_floor)


def intake_context(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> dict[str, ActivityWindow]:
    """The validation context for event bodies arriving now (see schemas.activity.ActivityWindow)."""
    return {ACTIVITY_WINDOW: activity_window(settings, clock)}


def activity_record(org: Org, key: str, event: ActivityIn) -> OrgActivity:
    """The cairn.activity.v1 record of an event: the person replaced by their recipient key."""
    return OrgActivity(
        event_id=event.id, org_id=org.id, activity=ActivityRecordValue(activity_from_api(event, key))
    )


async def accept_events(
    store: Store, publisher: Publisher, org: Org, events: Sequence[ActivityIn], clock: Clock = SYSTEM_CLOCK
) -> list[str]:
    """Returns the ids once Kafka has acknowledged every record (acks=all); then each goes into
    the history the volunteer's page shows (only what Kafka has, so never an activity it lacks)."""
    secret = await store.org_secret(org.id)
    keyed = [(recipient_key(secret, person_of(e).email), e) for e in events]
    await store.upsert_recipients(org.id, {k: (person_of(e).email, person_of(e).name) for k, e in keyed})
    # the language stays in the store with the contact details: the Kafka record carries none
    languages = {k: language for k, e in keyed if (language := person_of(e).language)}
    if languages:
        await store.set_recipient_languages(org.id, languages)
    records = [activity_record(org, key, event) for key, event in keyed]
    await publisher.publish_all(records)
    accepted_at = clock.now()
    history = [activity_entry(r.event_id, r.activity.root, accepted_at) for r in records]
    await store.record_activities(org.id, history)
    return [e.id for e in events]
