"""The incremental engine (cairn.domain.criteria.standing) against the slow path and the whole
history: the same awards, questions, dates, evidence and progress report, event by event, over
shuffled, duplicated and voided deliveries, with compaction, and through the stored value."""

import json
import os
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.domain.criteria import (
    BeforeCompactedHistory,
    Progress,
    Standing,
    awards_for_history,
    progress_report,
    record_activity,
    settle,
    settle_standing,
)
from schemas.activity import ActivityVoided, VolunteerShiftLogged
from schemas.badge_class import BadgeClass
from tests.unit.test_criteria_properties import KEY, badge_classes, deliveries, in_time_order

EXAMPLES = int(os.environ.get("CAIRN_PROPERTY_EXAMPLES", "300"))


def _both(progress: Progress, standing: Standing, event_id: str, data: object, keep: int) -> tuple:
    """One event through the slow path and the incremental engine; both refuse or neither."""
    try:
        slow = record_activity(progress, event_id, data, keep=keep)
    except BeforeCompactedHistory:
        with pytest.raises(BeforeCompactedHistory):
            standing.record(event_id, data, keep=keep)
        return progress, False
    changed = standing.record(event_id, data, keep=keep)
    assert changed == (slow is not None)
    return slow or progress, changed


def _same_settlement(progress: Progress, standing: Standing, classes: list[BadgeClass]) -> tuple:
    slow, fast = settle(progress, classes, KEY), settle_standing(standing, classes, KEY)
    assert fast.awards == slow.awards
    assert fast.questions == slow.questions
    assert progress_report(fast.progress, classes) == progress_report(slow.progress, classes)
    assert fast.progress.pending_voids() == slow.progress.pending_voids()
    return slow, fast


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    classes=badge_classes(),
    delivered=deliveries(),
    batch_ends=st.sets(st.integers(0, 30)),
    reloads=st.sets(st.integers(0, 30)),
)
def test_incremental_engine_settles_as_the_whole_history_does(classes, delivered, batch_ends, reloads):
    """Shuffled, duplicated and voided deliveries, settled in random batches and sometimes read
    back from the stored value: every batch's awards and questions equal the slow path's, and
    without voids the awards are exactly the whole history's."""
    progress, standing = Progress(), Standing()
    granted = []
    pending = False
    for position, (event_id, data) in enumerate(delivered):
        progress, changed = _both(progress, standing, event_id, data, keep=1000)
        pending = pending or changed
        if pending and (position in batch_ends or position == len(delivered) - 1):
            slow, fast = _same_settlement(progress, standing, classes)
            granted += [(a.badge_class_id, a.occurrence) for a in fast.awards]
            progress, standing, pending = slow.progress, fast.progress, False
            if position in reloads:
                standing = Standing.load(standing.stored())
    voided = {data.voids for _, data in delivered if isinstance(data, ActivityVoided)}
    if not voided:
        unique = dict(reversed(delivered))
        whole = awards_for_history(list(unique.items()), classes, KEY)
        assert sorted(granted) == sorted((a.badge_class_id, a.occurrence) for a in whole)


@settings(max_examples=EXAMPLES, deadline=None)
@given(classes=badge_classes(), delivered=in_time_order(), keep=st.integers(2, 6))
def test_incremental_engine_with_compaction_matches_the_slow_path(classes, delivered, keep):
    progress, standing = Progress(), Standing()
    for event_id, data in delivered:
        progress, changed = _both(progress, standing, event_id, data, keep=keep)
        if changed:
            slow, fast = _same_settlement(progress, standing, classes)
            progress, standing = slow.progress, Standing.load(fast.progress.stored())


def _badge(badge_id: str, criteria: dict, repeat: str | None = None) -> BadgeClass:
    return BadgeClass(
        id=badge_id,
        org_id="org",
        version=1,
        name=badge_id,
        description="d",
        criteria_narrative="n",
        criteria=criteria,
        repeat=repeat,
    )


SEEDED = [
    _badge("hours", {"kind": "total_hours", "at_least": 12, "within_days": 30}),
    _badge(
        "path",
        {"kind": "all", "of": [{"kind": "holds_badge", "badge": "hours"}, {"kind": "streak", "weeks": 3}]},
    ),
    _badge("yearly", {"kind": "count", "at_least": 3}, repeat="calendar_year"),
    _badge("every", {"kind": "total_hours", "at_least": 7.5}, repeat="each_multiple"),
    _badge("days", {"kind": "distinct", "field": "day", "at_least": 4, "within_days": 10}),
]


def test_seeded_random_histories_agree_with_the_slow_path_and_the_whole_history():
    """Without hypothesis: two hundred seeded shuffled, duplicated histories across a new year,
    every settlement equal to the slow path's, and the awards those of the whole history."""
    rng = random.Random(14)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    for _ in range(200):
        history = [
            (
                f"e{i}",
                VolunteerShiftLogged(
                    recipient_key=KEY,
                    started_at=t0 + timedelta(days=rng.randrange(60), hours=rng.randrange(24)),
                    hours=rng.choice([1, 3, 5]),
                ),
            )
            for i in range(rng.randrange(1, 25))
        ]
        delivered = history + rng.sample(history, rng.randrange(len(history) + 1))
        rng.shuffle(delivered)
        progress, standing, granted = Progress(), Standing(), []
        for event_id, data in delivered:
            progress, changed = _both(progress, standing, event_id, data, keep=1000)
            if changed:
                slow, fast = _same_settlement(progress, standing, SEEDED)
                granted += [a.award_id for a in fast.awards]
                progress, standing = slow.progress, fast.progress
        whole = awards_for_history(history, SEEDED, KEY)
        assert sorted(granted) == sorted(a.award_id for a in whole)


def test_a_value_in_the_earlier_format_is_read_and_converted():
    """A table value written before the incremental engine (a Progress's JSON) reads as the same
    standing, carries on earning from where it was, and is written back in the new format."""
    badge = BadgeClass(
        id="ten",
        org_id="org",
        version=1,
        name="Ten",
        description="d",
        criteria_narrative="n",
        criteria={"kind": "total_hours", "at_least": 10},
    )
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    old = Progress()
    for day in range(3):
        shift = VolunteerShiftLogged(recipient_key=KEY, started_at=t0 + timedelta(days=day), hours=3)
        old = record_activity(old, f"s{day}", shift) or old
    old = record_activity(old, "v", ActivityVoided(recipient_key=KEY, voids="gone", reason="x")) or old
    old = settle(old, [badge], KEY).progress
    raw = old.stored()
    assert not raw.startswith(b'{"v":2')

    standing = Standing.load(raw)
    assert sorted(standing.activities) == ["s0", "s1", "s2"]
    assert standing.pending_voids() == ["gone"] and standing.checked == {"ten": 1}
    assert not settle_standing(standing, [badge], KEY).awards  # 9 hours
    assert not standing.record("s1", VolunteerShiftLogged(recipient_key=KEY, started_at=t0, hours=3))
    fourth = VolunteerShiftLogged(recipient_key=KEY, started_at=t0 + timedelta(days=3), hours=1)
    assert standing.record("s3", fourth)
    [award] = settle_standing(standing, [badge], KEY).awards
    assert award.earned_at == t0 + timedelta(days=3, hours=1)
    assert json.loads(standing.stored())["v"] == 2
    assert Standing.load(standing.stored()).progress() == standing.progress()


def test_stored_value_is_smaller_than_the_earlier_format():
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    progress, standing = Progress(), Standing()
    for day in range(50):
        shift = VolunteerShiftLogged(
            recipient_key=KEY, started_at=t0 + timedelta(days=day), hours=2, site="north"
        )
        progress = record_activity(progress, f"shift-{day:04d}", shift) or progress
        standing.record(f"shift-{day:04d}", shift)
    assert Standing.load(standing.stored()).progress() == progress
    assert len(standing.stored()) < 0.75 * len(progress.stored())
