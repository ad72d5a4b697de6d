"""Workshop check-in on fakes: a signed link that works only in the session's window; each
check-in a workshop_attendance event through intake (once per person); host-confirms mode holds
them for a click; removing one voids it if it was posted; three of four sessions earn the badge."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from cairn.domain.identity import recipient_key
from cairn.usecases.check_in import CheckInRefused, check_in, confirm, open_session, remove
from schemas.activity import ActivityVoided, WorkshopAttendanceRecorded
from schemas.badge_class import BadgeClassIn
from schemas.check_in import CheckInIn, CheckInSessionIn
from tests.service.conftest import NOW
from tests.service.flow import activity, awards_from

SAM = CheckInIn(name="Sam", email="sam@example.org")
THREE_OF_FOUR = BadgeClassIn(
    id="bike-repair",
    name="Bike repair: 3 of 4 sessions",
    description="Came to three of the four bike repair evenings.",
    criteria_narrative="Attend 3 of the 4 sessions.",
    criteria={
        "kind": "distinct",
        "field": "session",
        "at_least": 3,
        "of": ["1", "2", "3", "4"],
        "filter": {"series": "bike-repair"},
    },
)


def session_body(
    session: str = "3", starts_in: timedelta = timedelta(minutes=-10), **more
) -> CheckInSessionIn:
    start = NOW + starts_in
    return CheckInSessionIn(
        series="bike-repair", session=session, starts_at=start, ends_at=start + timedelta(hours=2), **more
    )


def attendances(publisher) -> list[WorkshopAttendanceRecorded]:
    return [
        r.activity.root
        for r in activity(publisher)
        if isinstance(r.activity.root, WorkshopAttendanceRecorded)
    ]


async def test_a_check_in_is_one_attendance_through_intake_however_often(
    store, publisher, settings, clock, riverside
):
    session = await open_session(store, riverside.org, session_body(), clock)
    code = store.check_in_code(session.id)
    first = await check_in(store, publisher, session.id, code, SAM, settings, clock)
    again = await check_in(store, publisher, session.id, code, SAM, settings, clock)
    assert first == again and first.status == "posted"
    [record, repeat] = activity(publisher)
    assert record == repeat, "the same event id: counted once downstream"
    attendance = record.activity.root
    key = recipient_key(await store.org_secret(riverside.org.id), "sam@example.org")
    assert (attendance.series, attendance.session, attendance.recipient_key) == ("bike-repair", "3", key)
    assert (await store.recipient(riverside.org.id, key)).name == "Sam"


async def test_the_link_works_only_signed_and_in_its_window(store, publisher, settings, clock, riverside):
    session = await open_session(store, riverside.org, session_body(starts_in=timedelta(minutes=31)), clock)
    code = store.check_in_code(session.id)
    with pytest.raises(CheckInRefused, match="unknown"):
        await check_in(
            store,
            publisher,
            session.id,
            code[:-1] + ("1" if code.endswith("0") else "0"),
            SAM,
            settings,
            clock,
        )
    with pytest.raises(CheckInRefused, match="not_yet"):
        await check_in(store, publisher, session.id, code, SAM, settings, clock)
    clock.advance(timedelta(minutes=1))  # 30 minutes before the start: open
    assert (await check_in(store, publisher, session.id, code, SAM, settings, clock)).status == "posted"
    clock.advance(timedelta(minutes=30 + 120 + 120, seconds=1))  # past the end (2 h) plus 2 h
    with pytest.raises(CheckInRefused, match="closed"):
        await check_in(
            store,
            publisher,
            session.id,
            code,
            CheckInIn(name="Ana", email="ana@example.org"),
            settings,
            clock,
        )
    assert len(activity(publisher)) == 1


async def test_host_confirms_mode_posts_on_the_click_and_a_removed_one_never(
    store, publisher, settings, clock, riverside
):
    session = await open_session(store, riverside.org, session_body(host_confirms=True), clock)
    code = store.check_in_code(session.id)
    sam = await check_in(store, publisher, session.id, code, SAM, settings, clock)
    ana = await check_in(
        store, publisher, session.id, code, CheckInIn(name="Ana", email="ana@example.org"), settings, clock
    )
    assert (sam.status, ana.status, activity(publisher)) == ("pending", "pending", [])
    assert await confirm(store, publisher, riverside.org, session.id, sam.id, settings, clock)
    assert not await confirm(store, publisher, riverside.org, session.id, sam.id, settings, clock), "once"
    assert await remove(store, publisher, riverside.org, session.id, ana.id, settings, clock)
    assert [a.session for a in attendances(publisher)] == ["3"] and len(activity(publisher)) == 1
    assert {c.id: c.status for c in await store.check_ins(session.id)} == {
        sam.id: "posted",
        ana.id: "removed",
    }


async def test_removing_a_posted_check_in_voids_it(store, publisher, settings, clock, riverside):
    session = await open_session(store, riverside.org, session_body(), clock)
    sam = await check_in(store, publisher, session.id, store.check_in_code(session.id), SAM, settings, clock)
    assert await remove(store, publisher, riverside.org, session.id, sam.id, settings, clock)
    assert not await remove(store, publisher, riverside.org, session.id, sam.id, settings, clock), (
        "voided once"
    )
    [_, void] = activity(publisher)
    assert (
        isinstance(void.activity.root, ActivityVoided)
        and void.activity.root.voids == activity(publisher)[0].event_id
    )
    other, _ = await store.create_org("Other", "other")
    with pytest.raises(LookupError):
        await remove(store, publisher, other, session.id, sam.id, settings, clock)


async def test_a_check_in_counts_toward_three_of_four_sessions(store, publisher, settings, clock, riverside):
    await store.save_badge_class(riverside.org.id, THREE_OF_FOUR)
    for number in ("1", "2"):
        earlier = await open_session(
            store, riverside.org, session_body(number, timedelta(days=-14 + 7 * int(number))), clock
        )
        clock.advance(timedelta(days=-14 + 7 * int(number)))
        await check_in(store, publisher, earlier.id, store.check_in_code(earlier.id), SAM, settings, clock)
        clock.advance(timedelta(days=14 - 7 * int(number)))
    assert await awards_from(publisher, store, riverside.org.id) == []
    third = await open_session(store, riverside.org, session_body("3"), clock)
    await check_in(store, publisher, third.id, store.check_in_code(third.id), SAM, settings, clock)
    assert [a.badge_class_id for a in await awards_from(publisher, store, riverside.org.id)] == [
        "bike-repair"
    ]


def test_a_session_ends_after_it_starts():
    with pytest.raises(ValidationError, match="ends after it starts"):
        CheckInSessionIn(series="s", session="1", starts_at=NOW, ends_at=NOW)
    with pytest.raises(ValidationError):
        CheckInIn(name="Sam\nBcc: x", email="sam@example.org")
