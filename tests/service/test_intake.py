"""Intake on fakes: events in (one, a batch, a CSV file), contact details into the store,
pseudonymous records out through the Publisher."""

import pytest
from pydantic import ValidationError

from cairn.domain.csv_import import parse_csv
from cairn.domain.identity import recipient_key
from cairn.settings import REPO_ROOT
from cairn.usecases.intake import accept_events, activity_window, intake_context
from schemas.activity import EventBatchIn, VolunteerShiftLogged
from tests.service.flow import activity, awards_from, shift, void

CSV = REPO_ROOT / "tests" / "data" / "csv"


async def test_one_event_is_published_without_personal_data(store, publisher, riverside):
    org = riverside.org
    assert await accept_events(store, publisher, org, [shift("s1", "Sam@Example.org", 0, 4)]) == ["s1"]

    key = recipient_key(await store.org_secret(org.id), "sam@example.org")
    [record] = activity(publisher)
    assert (record.event_id, record.org_id) == ("s1", org.id)
    assert (
        isinstance(record.activity.root, VolunteerShiftLogged) and record.activity.root.recipient_key == key
    )
    assert "example.org" not in record.model_dump_json(), "no email on Kafka"
    contact = await store.recipient(org.id, key)
    assert (contact.email, contact.name) == ("Sam@example.org", "Sam"), "kept as given, keyed normalised"


async def test_a_batch_is_published_in_order(store, publisher, riverside, settings, clock):
    body = {"events": [shift(f"s{n}", f"v{n}@example.org", n, 2).model_dump(mode="json") for n in range(3)]}
    events = EventBatchIn.model_validate(body, context=intake_context(settings, clock)).events
    assert await accept_events(store, publisher, riverside.org, events) == ["s0", "s1", "s2"]
    assert [r.event_id for r in activity(publisher)] == ["s0", "s1", "s2"]
    assert len(await store.recipients(riverside.org.id)) == 3


async def test_a_rota_csv_becomes_one_record_per_row(store, publisher, riverside, settings, clock):
    parsed = parse_csv((CSV / "rota_export.csv").read_text(), window=activity_window(settings, clock))
    assert not parsed.errors and parsed.events
    events = [event for _, event in parsed.events]
    await accept_events(store, publisher, riverside.org, events)
    assert [r.event_id for r in activity(publisher)] == [e.id for e in events]
    emails = {p.email for p in await store.recipients(riverside.org.id)}
    assert "sam@example.org" in emails and "ana@example.org" in emails


def test_bad_rows_are_reported_by_row_and_none_is_accepted(settings, clock):
    text = (
        "Shift ID,Volunteer Name,E-mail,Shift Date,Time In,Time Out\n"
        "R-1,Sam,sam@example.org,02/11/2026,09:00,13:00\n"
        "R-2,Ana,not-an-email,02/11/2026,09:00,13:00\n"
        "R-3,Ben,ben@example.org,02/11/2027,09:00,13:00\n"  # a year past the fake clock's now
    )
    parsed = parse_csv(text, window=activity_window(settings, clock))
    assert sorted(e.row for e in parsed.errors) == [3, 4], parsed.errors
    assert [row for row, _ in parsed.events] == [2]


def test_the_activity_window_follows_the_clock(settings, clock):
    body = shift("late", "sam@example.org", 0, 1).model_dump(mode="json")
    EventBatchIn.model_validate({"events": [body]}, context=intake_context(settings, clock))
    clock.current = clock.current.replace(year=2026, month=11, day=1)  # before the shift happened
    with pytest.raises(ValidationError, match="future"):
        EventBatchIn.model_validate({"events": [body]}, context=intake_context(settings, clock))


def test_a_batch_repeating_an_id_keeps_one_and_refuses_a_conflict(settings, clock):
    same = shift("dup", "sam@example.org", 0, 4).model_dump(mode="json")
    batch = EventBatchIn.model_validate({"events": [same, same]}, context=intake_context(settings, clock))
    assert [e.id for e in batch.events] == ["dup"]
    between = shift("other", "ana@example.org", 0, 1).model_dump(mode="json")
    conflict = {**same, "hours": 5}
    with pytest.raises(ValidationError, match="events 0 and 2 have the same id 'dup' but different contents"):
        EventBatchIn.model_validate(
            {"events": [same, between, conflict]}, context=intake_context(settings, clock)
        )


async def test_an_event_posted_twice_counts_once(store, publisher, riverside):
    events = [shift("s1", "sam@example.org", 0, 6), shift("s2", "sam@example.org", 1, 3)]
    await accept_events(store, publisher, riverside.org, events)
    await accept_events(store, publisher, riverside.org, events)  # a client retrying after a timeout
    assert len(activity(publisher)) == 4, "intake publishes what it is given; the id is the dedupe key"
    assert await awards_from(publisher, store, riverside.org.id) == [], "9 hours, not 18"


def test_a_void_of_itself_is_refused():
    with pytest.raises(ValidationError, match="cannot take back itself"):
        void("v-self", "v-self", "seven@example.org")
