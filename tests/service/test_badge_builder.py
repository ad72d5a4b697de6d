"""The badge builder's use cases on the fakes: the preview is the engine's dry run over the
activity history the gateway keeps at intake (exactly who the engine would award, nothing
published), publishing makes versions, an edit's changes are listed, and each version lists
who holds it."""

from cairn.domain.criteria import awards_for_history
from cairn.ports import Store
from cairn.usecases import badge_builder
from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from schemas.activity import OrgActivity
from schemas.awards import AwardGranted
from schemas.badge_class import BadgeClass, BadgeClassIn
from tests.service.conftest import Riverside
from tests.service.fakes import FakeClock, FakePublisher
from tests.service.flow import PUBLIC_URL, awards_from, shift, void


def pantry(at_least: float, within_days: int | None = None, **extra: object) -> BadgeClassIn:
    return BadgeClassIn(
        id="pantry-regular",
        name="Pantry regular",
        description="Regular at the pantry.",
        criteria_narrative="Pantry shifts.",
        criteria={"kind": "total_hours", "at_least": at_least, "within_days": within_days},
        **extra,
    )


async def season(store: Store, publisher: FakePublisher, riverside: Riverside) -> None:
    events = [
        shift("a1", "ann@example.org", 0, 6, name="Ann"),
        shift("a2", "ann@example.org", 3, 5, name="Ann"),  # Ann: 11 h
        shift("b1", "bo@example.org", 1, 4, name="Bo"),
        shift("b2", "bo@example.org", 2, 4, name="Bo"),  # Bo: 8 h
        shift("c1", "cy@example.org", 0, 12, name="Cy"),
        void("c2", "c1", "cy@example.org"),  # Cy: 12 h taken back
        shift("d1", "di@example.org", 0, 9, name="Di"),
        shift("d1", "di@example.org", 0, 9, name="Di"),  # the same id twice counts once
    ]
    await accept_events(store, publisher, riverside.org, events)


async def test_preview_is_the_engines_dry_run_and_publishes_nothing(
    store: Store, publisher: FakePublisher, riverside: Riverside
) -> None:
    await season(store, publisher, riverside)
    published = len(publisher.of(OrgActivity))
    body = pantry(8)

    result = await badge_builder.preview(store, riverside.org, body)

    assert [q.shown for q in result.would_receive] == ["Ann", "Bo", "Di"]
    assert result.badge.version == 1 and result.holders == 0 and result.people == 4
    # checked against the engine over the whole histories the publisher saw
    candidate = badge_builder.as_published(riverside.org, body, 1)
    engine = {a.recipient_key for a in await _engine_awards(publisher, candidate)}
    assert {q.recipient_key for q in result.would_receive} == engine
    assert result.would_receive[0].evidence[0].achieved == 11
    assert len(publisher.of(OrgActivity)) == published and not publisher.of(BadgeClass)
    assert await store.badge_class(riverside.org.id, "pantry-regular") is None, "a preview stores nothing"


async def _engine_awards(publisher: FakePublisher, badge: BadgeClass) -> list[AwardGranted]:
    histories: dict[str, list] = {}
    for record in publisher.of(OrgActivity):
        histories.setdefault(record.activity.root.recipient_key, []).append(
            (record.event_id, record.activity.root)
        )
    return [a for key, events in histories.items() for a in awards_for_history(events, [badge], key)]


async def test_repeats_pathways_and_windows(
    store: Store, publisher: FakePublisher, riverside: Riverside
) -> None:
    await season(store, publisher, riverside)
    every_four = await badge_builder.preview(store, riverside.org, pantry(4, repeat="each_multiple"))
    assert {q.shown: q.awards for q in every_four.would_receive} == {"Ann": 2, "Bo": 2, "Di": 2}
    # Ann's 11 hours span four days: within 2 days only her first shift (6 h) counts
    recent = await badge_builder.preview(store, riverside.org, pantry(6, within_days=2))
    assert [q.shown for q in recent.would_receive] == ["Ann", "Bo", "Di"]
    assert [
        q.shown for q in (await badge_builder.preview(store, riverside.org, pantry(9, 2))).would_receive
    ] == ["Di"]

    # a pathway counts the badges people hold: Sam's ten-hours credential, issued for real
    await accept_events(store, publisher, riverside.org, [shift("s1", "sam@example.org", 0, 10)])
    sam = await store.recipient_key_of(riverside.org.id, "sam@example.org")
    [award] = [a for a in await awards_from(publisher, store, riverside.org.id) if a.recipient_key == sam]
    await issue_and_announce(store, publisher, award, PUBLIC_URL, FakeClock(award.earned_at))
    pathway = BadgeClassIn(
        id="lead",
        name="Pantry lead",
        description="d",
        criteria_narrative="n",
        criteria={
            "kind": "all",
            "of": [{"kind": "holds_badge", "badge": "ten-hours"}, {"kind": "count", "at_least": 1}],
        },
    )
    result = await badge_builder.preview(store, riverside.org, pathway)
    assert [q.shown for q in result.would_receive] == ["Sam"]


async def test_publish_edit_changes_and_versions(
    store: Store, publisher: FakePublisher, riverside: Riverside, clock: FakeClock
) -> None:
    await season(store, publisher, riverside)
    first = await badge_builder.publish(store, publisher, riverside.org, pantry(10))
    assert first.version == 1 and publisher.of(BadgeClass) == [first]
    # the aggregator awards Ann (11 h); the signer issues it under version 1
    [award] = [
        a for a in await awards_from(publisher, store, riverside.org.id) if a.badge_class_id == first.id
    ]
    await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)

    edited = pantry(8, within_days=30, expires_after_days=365)
    again = await badge_builder.preview(store, riverside.org, edited)
    assert again.badge.version == 2 and again.holders == 1
    assert [q.shown for q in again.would_receive] == ["Bo", "Di"], "Ann holds it already"
    names = {"pantry-regular": "Pantry regular"}
    changed = {c.field: c for c in badge_builder.changes(first, edited, names)}
    assert set(changed) == {"criteria", "expires_after_days"}
    assert changed["criteria"].before == "10 hours of activity."
    assert (
        changed["criteria"].after
        == "8 hours of activity within 30 days; expires 365 days after it is awarded."
    )
    assert "-at_least: 10.0" in changed["criteria"].lines and "+within_days: 30" in changed["criteria"].lines
    assert changed["expires_after_days"].before == "(none)" and changed["expires_after_days"].after == "365"

    second = await badge_builder.publish(store, publisher, riverside.org, edited)
    listed = await badge_builder.versions(store, riverside.org, "pantry-regular")
    assert [(v.badge.version, v.holders) for v in listed] == [(2, []), (1, ["Ann"])]
    assert second.version == 2 and publisher.of(BadgeClass)[-1] == second


async def test_erased_people_are_not_previewed(
    store: Store, publisher: FakePublisher, riverside: Riverside
) -> None:
    await season(store, publisher, riverside)
    ann = await store.recipient_key_of(riverside.org.id, "ann@example.org")
    await store.erase_person(riverside.org.id, ann)
    result = await badge_builder.preview(store, riverside.org, pantry(8))
    assert [q.shown for q in result.would_receive] == ["Bo", "Di"]
