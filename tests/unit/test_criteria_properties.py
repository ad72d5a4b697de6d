"""Property: for random badge classes and random histories (overlapping shifts included),
delivered in any order with duplicates and voids, settling after every event awards exactly
what evaluating the whole history at once awards; the only extra awards are those a void took
the ground from under, and each of those is questioned."""

import os
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cairn.domain.criteria import (
    BeforeCompactedHistory,
    Progress,
    awards_for_history,
    evaluate,
    record_activity,
    settle,
)
from schemas.activity import ActivityVoided, VolunteerShiftLogged, WorkshopAttendanceRecorded, event_time
from schemas.badge_class import BadgeClass

KEY = "b" * 64
T0 = datetime(2026, 1, 5, tzinfo=UTC)

filters = st.fixed_dictionaries(
    {}, optional={"program": st.sampled_from(["pantry", "kitchen"]), "role": st.just("lead")}
)
windows = st.one_of(st.none(), st.integers(1, 8), st.integers(9, 60))
leaves = st.one_of(
    st.builds(
        lambda n, f, w: {"kind": "total_hours", "at_least": n, "filter": f, "within_days": w},
        st.integers(1, 30),
        filters,
        windows,
    ),
    st.builds(
        lambda n, f, w: {"kind": "count", "at_least": n, "filter": f, "within_days": w},
        st.integers(1, 6),
        filters,
        windows,
    ),
    st.builds(
        lambda n, field, w: {"kind": "distinct", "field": field, "at_least": n, "within_days": w},
        st.integers(1, 4),
        st.sampled_from(["day", "site", "session"]),
        windows,
    ),
    st.builds(
        lambda n, of: {"kind": "distinct", "field": "session", "at_least": n, "of": of},
        st.integers(1, 3),
        st.just(["1", "2", "3", "4"]),
    ),
    st.builds(lambda k, w: {"kind": "streak", "weeks": k, "within_days": w}, st.integers(2, 4), windows),
)
criteria = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(lambda of: {"kind": "all", "of": of}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda of: {"kind": "any", "of": of}, st.lists(children, min_size=1, max_size=3)),
        st.lists(children, min_size=1, max_size=3).flatmap(
            lambda of: st.builds(lambda n: {"kind": "at_least_of", "n": n, "of": of}, st.integers(1, len(of)))
        ),
    ),
    max_leaves=4,
)


@st.composite
def badge_classes(draw: st.DrawFn) -> list[BadgeClass]:
    count = draw(st.integers(1, 3))
    classes = []
    for i in range(count):
        tree = draw(criteria)
        if i and draw(st.booleans()):  # a pathway: also needs the previous badge
            tree = {"kind": "all", "of": [{"kind": "holds_badge", "badge": f"b{i - 1}"}, tree]}
        repeats = [None, None, "calendar_year"]
        if tree["kind"] in ("total_hours", "count"):
            repeats.append("each_multiple")
        classes.append(
            BadgeClass(
                id=f"b{i}",
                org_id="org",
                version=1,
                name=f"b{i}",
                description="d",
                criteria_narrative="n",
                criteria=tree,
                repeat=draw(st.sampled_from(repeats)),
            )
        )
    return classes


def activities(days: int, plain: bool = False) -> st.SearchStrategy:
    """Shifts and attendances over `days` days, at several times of day; `plain` shifts have no
    program, role or site, so that more of them share a day and fold together."""

    def field(*values: str) -> st.SearchStrategy:
        return st.just(None) if plain else st.sampled_from([None, *values])

    return st.one_of(
        st.builds(
            lambda day, hour, hours, program, role, site: VolunteerShiftLogged(
                recipient_key=KEY,
                started_at=T0 + timedelta(days=day, hours=hour),
                hours=hours,
                program=program,
                role=role,
                site=site,
            ),
            st.integers(0, days),
            st.sampled_from([0, 6, 9, 10, 14]),
            st.sampled_from([1, 2.5, 4, 8, 10 / 3]),
            field("pantry", "kitchen"),
            field("lead"),
            field("north", "south"),
        ),
        st.builds(
            lambda day, hour, session, minutes: WorkshopAttendanceRecorded(
                recipient_key=KEY,
                series="bikes",
                session=session,
                attended_at=T0 + timedelta(days=day, hours=hour),
                minutes=minutes,
            ),
            st.integers(0, days),
            st.sampled_from([0, 9, 18]),
            st.sampled_from(["1", "2", "3", "4", "5"]),
            st.sampled_from([None, 60, 90]),
        ),
    )


activity = activities(90)


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[str, object]]:
    """Events as Kafka might deliver them: shuffled, some twice, some voided (before or after)."""
    # Some crowded into a few days, so that one person's shifts overlap.
    crowded = st.lists(st.one_of(activity, activities(3)), min_size=1, max_size=14)
    history = [(f"e{i}", data) for i, data in enumerate(draw(crowded))]
    voids = [
        (f"v{i}", ActivityVoided(recipient_key=KEY, voids=event_id, reason="error"))
        for i, (event_id, _) in enumerate(history)
        if draw(st.integers(0, 5)) == 0
    ]
    delivered = history + voids
    delivered += draw(st.lists(st.sampled_from(delivered), max_size=4))  # redeliveries
    return draw(st.permutations(delivered))


@settings(max_examples=int(os.environ.get("CAIRN_PROPERTY_EXAMPLES", "300")), deadline=None)
@given(classes=badge_classes(), delivered=deliveries(), batch_ends=st.sets(st.integers(0, 30)))
def test_incremental_awards_match_the_whole_history(classes, delivered, batch_ends):
    """Settling after any grouping of events into batches (as the aggregator does: each batch
    is recorded, then settled once) awards what the whole history earns."""
    progress = Progress()
    granted: list[tuple[str, int]] = []
    pending = False
    for position, (event_id, data) in enumerate(delivered):
        updated = record_activity(progress, event_id, data)
        if updated is not None:
            progress, pending = updated, True
        if pending and (position in batch_ends or position == len(delivered) - 1):
            outcome = settle(progress, classes, KEY)
            granted += [(a.badge_class_id, a.occurrence) for a in outcome.awards]
            progress, pending = outcome.progress, False

    assert len(granted) == len(set(granted)), "an occurrence of a badge was awarded twice"
    # The reference history, built here without the engine's own dedupe and void handling:
    # each event id once, minus every voided one, evaluated once at the end.
    voided = {data.voids for _, data in delivered if isinstance(data, ActivityVoided)}
    unique = dict(reversed([(e, d) for e, d in delivered if not isinstance(d, ActivityVoided)]))
    history = [(e, d) for e, d in unique.items() if e not in voided]
    whole = {(a.badge_class_id, a.occurrence) for a in awards_for_history(history, classes, KEY)}
    has_voids = bool(voided)
    if not has_voids:
        assert set(granted) == whole
    else:
        assert whole <= set(granted)
        extras = {badge for badge, _ in set(granted) - whole}
        assert extras <= set(progress.questioned) <= {badge for badge, _ in granted}


def when(data: VolunteerShiftLogged | WorkshopAttendanceRecorded) -> datetime:
    return data.attended_at if isinstance(data, WorkshopAttendanceRecorded) else event_time(data)


@st.composite
def in_time_order(draw: st.DrawFn) -> list[tuple[str, object]]:
    """Events arriving in event-time order (ties in any order), some delivered again later."""
    # Crowded into a few weeks, so that folded days meet windows and streaks past the keep limit.
    crowded = st.lists(
        st.one_of(activity, activities(20), activities(20, plain=True)), min_size=1, max_size=24
    )
    history = [(f"e{i}", data) for i, data in enumerate(draw(crowded))]
    history.sort(key=lambda item: when(item[1]))
    delivered = list(history)
    for again in draw(st.lists(st.sampled_from(history), max_size=6)):
        delivered.insert(draw(st.integers(delivered.index(again) + 1, len(delivered))), again)
    return delivered


def _shift(day: int, hour: float, hours: float) -> VolunteerShiftLogged:
    return VolunteerShiftLogged(
        recipient_key=KEY, started_at=T0 + timedelta(days=day, hours=hour), hours=hours
    )


_NINE_HOURS_IN_5_DAYS = BadgeClass(
    id="b0",
    org_id="org",
    version=1,
    name="b0",
    description="d",
    criteria_narrative="n",
    criteria={"kind": "total_hours", "at_least": 9, "within_days": 5},
)


@settings(max_examples=int(os.environ.get("CAIRN_PROPERTY_EXAMPLES", "300")), deadline=None)
@given(classes=badge_classes(), delivered=in_time_order(), keep=st.integers(2, 6))
@example(  # day 0's two shifts folded must not bring 00:00-01:00 into the window after 04:00 day 5
    classes=[_NINE_HOURS_IN_5_DAYS],
    delivered=[("e0", _shift(0, 0, 1)), ("e1", _shift(0, 6, 4)), ("e2", _shift(5, 0, 4))],
    keep=2,
)
def test_compacted_progress_awards_what_the_whole_history_awards(classes, delivered, keep):
    """With the state bounded to a few activities by id, the awards (ids and dates) are those of
    the whole history; a redelivery from before the compacted history is refused, never counted."""
    progress = Progress()
    granted = []
    for event_id, data in delivered:
        try:
            progress = record_activity(progress, event_id, data, keep=keep) or progress
        except BeforeCompactedHistory:
            continue
        outcome = settle(progress, classes, KEY)
        granted += [(a.award_id, a.earned_at) for a in outcome.awards]
        progress = outcome.progress
    whole = awards_for_history(list(dict(delivered).items()), classes, KEY)
    assert sorted(granted) == sorted((a.award_id, a.earned_at) for a in whole)


def _minutes(record) -> set[int]:
    """The minutes an activity covers: a shift ends at its time, a workshop starts there (every
    time and length drawn here is in whole minutes)."""
    at = int(record.at.timestamp()) // 60
    length = record.seconds // 60
    return set(range(at - length, at) if record.kind == "volunteer_shift" else range(at, at + length))


def _by_definition(criterion, progress: Progress) -> tuple[datetime | None, Fraction]:
    """A leaf as its docstring defines it, re-measured from scratch at every activity: when the
    measure over the window ending there first met the requirement, and the measure now. Hours
    are the minutes covered, each counted once however many activities cover it."""
    wanted = [(name, value) for name, value in criterion.filter if value is not None]
    matching = sorted(
        (r for _, r in progress.records() if r.completed and all(getattr(r, n) == v for n, v in wanted)),
        key=lambda r: r.at,
    )
    window = timedelta(days=criterion.within_days) if criterion.within_days else None

    def measure(end: datetime) -> Fraction:
        inside = [r for r in matching if r.at <= end and (window is None or r.at > end - window)]
        if criterion.kind == "total_hours":
            return Fraction(len(set().union(*map(_minutes, inside))), 60)
        if criterion.kind == "count":
            return sum(r.count for r in inside)
        if criterion.kind == "distinct":
            field = criterion.field
            values = {r.at.date().isoformat() if field == "day" else getattr(r, field) for r in inside}
            values -= {None}
            return len(values & set(criterion.of) if criterion.of is not None else values)
        weeks = sorted({(r.at - timedelta(days=r.at.weekday())).date() for r in inside})
        runs = [1]
        for before, monday in pairwise(weeks):
            runs.append(runs[-1] + 1 if (monday - before).days == 7 else 1)
        return max(runs) if weeks else 0

    required = criterion.weeks if criterion.kind == "streak" else criterion.at_least
    earned = next((r.at for r in matching if measure(r.at) >= Fraction(str(required))), None)
    return earned, measure(matching[-1].at) if matching else 0


@settings(max_examples=int(os.environ.get("CAIRN_PROPERTY_EXAMPLES", "300")), deadline=None)
@given(leaf=leaves, history=st.lists(activity, max_size=30), keep=st.integers(2, 40))
def test_one_pass_evaluation_agrees_with_the_definition(leaf, history, keep):
    criterion = BadgeClass(
        id="b", org_id="org", version=1, name="b", description="d", criteria_narrative="n", criteria=leaf
    ).criteria
    progress = Progress()
    for n, data in enumerate(sorted(history, key=when)):
        progress = record_activity(progress, f"e{n}", data, keep=keep) or progress
    result = evaluate(criterion, progress)
    assert (result.earned_at, result.figures[0].achieved) == _by_definition(criterion, progress)
