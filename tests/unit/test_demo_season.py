"""The demo's season is the same each run and has something on every page: each of the six
badges earned by someone, people part-way, and every event within the three months before."""

from datetime import UTC, datetime, timedelta

from devtools.demo_season import BADGES, ORGS, expected_awards, people_of, questioned, season, volunteers

ANCHOR = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


def test_the_same_anchor_gives_the_same_events():
    assert season(ANCHOR) == season(ANCHOR)
    assert season(ANCHOR) != season(ANCHOR + timedelta(days=1))


def test_a_few_dozen_made_up_people_with_unique_example_addresses():
    people = volunteers()
    assert len({p["email"] for p in people}) == len(people) >= 30
    assert all(p["email"].endswith("@example.org") for p in people)


def test_events_fall_in_the_three_months_before_the_first_run():
    for events in season(ANCHOR).values():
        ids = [e["id"] for e in events]
        assert len(set(ids)) == len(ids)
        for e in events:
            when = datetime.fromisoformat(e.get("started_at") or e["attended_at"])
            assert ANCHOR - timedelta(days=91) < when < ANCHOR


def test_every_badge_is_earned_a_repeat_comes_twice_and_some_are_part_way():
    events = season(ANCHOR)
    assert sum(len(b) for b in BADGES.values()) == 6
    for org in ORGS:
        awards = expected_awards(org.slug, events[org.slug])
        assert {b for _, b in awards} == {b["id"] for b in BADGES[org.slug]}
        active = {p["email"] for p in people_of(org.slug)}
        assert len(active - {email for email, _ in awards}) >= 3, "people part-way"
    pantry = [
        email
        for email, badge in expected_awards("riverside", events["riverside"])
        if badge == "pantry-10-hours"
    ]
    assert len(pantry) > len(set(pantry)), "someone earned the repeat badge twice"


def test_the_void_undoes_an_earned_award():
    events = season(ANCHOR)["riverside"]
    void = questioned(events)
    before = expected_awards("riverside", events)
    after = expected_awards("riverside", [e for e in events if e["id"] != void["voids"]])
    assert len(after) == len(before) - 1
