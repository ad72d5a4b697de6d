"""The volunteer's page and the list on fakes: the history intake keeps (voids shown), a void
posted from the page, progress grouped by badge names, and search, sort and paging."""

from datetime import timedelta

import pytest

from cairn.domain.volunteers import VolunteerQuery, void_id_for
from cairn.usecases.intake import accept_events
from cairn.usecases.volunteers import CannotVoid, void_activity, volunteer_detail
from schemas.activity import ActivityVoided
from schemas.awards import BadgeProgress, Evidence, ProgressUpdated
from schemas.badge_class import BadgeClassIn
from tests.service.flow import T0, activity, shift, void


async def _key(store, org, email):
    return await store.recipient_key_of(org.id, email)


async def test_intake_keeps_each_activity_once_and_marks_what_a_void_took_back(store, publisher, riverside):
    org = riverside.org
    await accept_events(
        store, publisher, org, [shift("s1", "sam@example.org", 0, 4), shift("s2", "sam@example.org", 3, 2)]
    )
    await accept_events(store, publisher, org, [shift("s1", "sam@example.org", 0, 4)])  # posted again
    await accept_events(store, publisher, org, [void("v1", "s1", "sam@example.org", "wrong day")])
    sam = await _key(store, org, "sam@example.org")
    history = await store.activity_history(org.id, sam)
    assert [e.event_id for e in history if not e.voids] == ["s2", "s1"], "newest first, once each"
    [voided] = [e for e in history if e.event_id == "s1"]
    assert (voided.voided_by, voided.void_reason) == ("v1", "wrong day")
    [the_void] = [e for e in history if e.voids]
    assert (the_void.event_id, the_void.voids, the_void.reason) == ("v1", "s1", "wrong day")
    page = await store.volunteer_page(org.id, VolunteerQuery())
    assert page.rows[0].last_activity_at == T0 + timedelta(days=3), "the latest activity, not the void"


async def test_a_void_that_comes_first_marks_its_activity_when_it_arrives(store, publisher, riverside):
    org = riverside.org
    await accept_events(store, publisher, org, [void("v1", "late", "sam@example.org", "typo")])
    await accept_events(store, publisher, org, [shift("late", "sam@example.org", 1, 2)])
    entry = await store.activity(org.id, "late")
    assert (entry.voided_by, entry.void_reason) == ("v1", "typo")


async def test_voiding_from_the_page_posts_one_void_through_intake(store, publisher, riverside, clock):
    org = riverside.org
    await accept_events(store, publisher, org, [shift("s1", "sam@example.org", 0, 4)])
    sam = await _key(store, org, "sam@example.org")
    void_id = await void_activity(store, publisher, org, sam, "s1", "entered twice", clock)
    assert void_id == void_id_for("s1")
    [record] = [r for r in activity(publisher) if isinstance(r.activity.root, ActivityVoided)]
    assert (record.event_id, record.activity.root.voids, record.activity.root.reason) == (
        void_id,
        "s1",
        "entered twice",
    )
    assert record.activity.root.recipient_key == sam and "example.org" not in record.model_dump_json()
    assert (await store.activity(org.id, "s1")).voided_by == void_id
    with pytest.raises(CannotVoid, match="already"):
        await void_activity(store, publisher, org, sam, "s1", "again", clock)
    with pytest.raises(CannotVoid, match="a void cannot"):
        await void_activity(store, publisher, org, sam, void_id, "again", clock)


async def test_nobody_voids_another_persons_activity(store, publisher, riverside, clock):
    org = riverside.org
    await accept_events(
        store, publisher, org, [shift("s1", "sam@example.org", 0, 4), shift("k1", "kim@example.org", 0, 4)]
    )
    sam = await _key(store, org, "sam@example.org")
    with pytest.raises(CannotVoid, match="no such activity"):
        await void_activity(store, publisher, org, sam, "k1", "not theirs", clock)
    assert (await store.activity(org.id, "k1")).voided_by is None


async def test_the_page_shows_a_pathway_as_one_item_with_its_parts_by_name(store, publisher, riverside):
    org = riverside.org
    await store.save_badge_class(
        org.id,
        BadgeClassIn(
            id="pantry-lead",
            name="Pantry lead",
            description="d",
            criteria_narrative="n",
            criteria={"kind": "all", "of": [{"kind": "holds_badge", "badge": "ten-hours"}]},
        ),
    )
    await accept_events(store, publisher, org, [shift("s1", "sam@example.org", 0, 4)])
    sam = await _key(store, org, "sam@example.org")
    figures = [Evidence(measure="hours", achieved=4, required=10)]
    ten = BadgeProgress(
        badge_class_id="ten-hours",
        badge_class_version=1,
        name="x",
        awarded=False,
        questioned=False,
        figures=figures,
    )
    await store.save_progress(ProgressUpdated(org_id=org.id, recipient_key=sam, as_of=T0, badges=[ten]))
    detail = await volunteer_detail(store, org, sam)
    assert [(i.name, [p.name for p in i.parts]) for i in detail.progress] == [
        ("Pantry lead", ["Pantry volunteer: 10 hours"])
    ]
    assert detail.progress[0].parts[0].progress == ten
    assert [e.event_id for e in detail.history] == ["s1"] and detail.contact.email == "sam@example.org"
    assert await volunteer_detail(store, org, "0" * 64) is None


async def test_the_list_searches_sorts_naturally_and_pages(store, publisher, riverside):
    org = riverside.org
    people = [shift(f"s{n}", f"v{n}@example.org", n % 20, 1, name=f"Volunteer {n}") for n in range(1, 26)]
    await accept_events(store, publisher, org, people)
    first = await store.volunteer_page(org.id, VolunteerQuery(per_page=10))
    assert (first.total, first.pages) == (25, 3)
    assert [r.name for r in first.rows] == [f"Volunteer {n}" for n in range(1, 11)], "9 before 10"
    third = await store.volunteer_page(org.id, VolunteerQuery(per_page=10, page=3))
    assert [r.name for r in third.rows] == [f"Volunteer {n}" for n in range(21, 26)]
    found = await store.volunteer_page(org.id, VolunteerQuery(search="V2@EXAMPLE"))
    assert [r.name for r in found.rows] == ["Volunteer 2"]
    recent = await store.volunteer_page(org.id, VolunteerQuery(sort="recent", per_page=3))
    assert [r.name for r in recent.rows] == ["Volunteer 19", "Volunteer 18", "Volunteer 17"]
    for n, hours in [(7, 9), (3, 5), (12, 10)]:  # Volunteer 12 holds the badge: nothing to be close to
        key = await _key(store, org, f"v{n}@example.org")
        figures = [Evidence(measure="hours", achieved=hours, required=10)]
        badge = BadgeProgress(
            badge_class_id="ten-hours",
            badge_class_version=1,
            name="x",
            awarded=hours >= 10,
            questioned=False,
            figures=figures,
        )
        await store.save_progress(ProgressUpdated(org_id=org.id, recipient_key=key, as_of=T0, badges=[badge]))
    closest = await store.volunteer_page(org.id, VolunteerQuery(sort="closest", per_page=3))
    assert [(r.name, r.closest) for r in closest.rows] == [
        ("Volunteer 7", 0.9),
        ("Volunteer 3", 0.5),
        ("Volunteer 1", 0),
    ]
