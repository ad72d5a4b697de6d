"""The criteria engine in isolation: every criterion kind, dedupe, voids, event time, awards once."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from cairn.domain.criteria import (
    BeforeCompactedHistory,
    Progress,
    awards_for_history,
    evaluate,
    needs_check,
    progress_report,
    record_activity,
    settle,
)
from schemas.activity import ActivityVoided, VolunteerShiftLogged, WorkshopAttendanceRecorded
from schemas.badge_class import BadgeClass

KEY = "a" * 64
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday


def shift(day: int, hours: float, **fields) -> VolunteerShiftLogged:
    return VolunteerShiftLogged(recipient_key=KEY, started_at=T0 + timedelta(days=day), hours=hours, **fields)


def attend(day: int, session: str, series: str = "bikes", **fields) -> WorkshopAttendanceRecorded:
    return WorkshopAttendanceRecorded(
        recipient_key=KEY, series=series, session=session, attended_at=T0 + timedelta(days=day), **fields
    )


def void(event_id: str) -> ActivityVoided:
    return ActivityVoided(recipient_key=KEY, voids=event_id, reason="logged in error")


def badge(criteria: dict, badge_id: str = "b", version: int = 1) -> BadgeClass:
    return BadgeClass(
        id=badge_id,
        org_id="org",
        version=version,
        name=badge_id,
        description="d",
        criteria_narrative="n",
        criteria=criteria,
    )


TEN_HOURS = {"kind": "total_hours", "at_least": 10}


def fold(events: list) -> Progress:
    progress = Progress()
    for event_id, data in events:
        progress = record_activity(progress, event_id, data) or progress
    return progress


def awarded(events: list, *badges: BadgeClass) -> list[str]:
    return [a.badge_class_id for a in settle(fold(events), list(badges), KEY).awards]


def test_duplicate_event_id_counts_once():
    progress = record_activity(Progress(), "e1", shift(0, 6))
    assert record_activity(progress, "e1", shift(0, 6)) is None
    assert evaluate(badge(TEN_HOURS).criteria, progress).figures[0].achieved == 6


def test_total_hours_award_and_event_time():
    assert awarded([("e1", shift(0, 6)), ("e2", shift(1, 3.5))], badge(TEN_HOURS)) == []
    [award] = settle(fold([("e1", shift(0, 6)), ("e2", shift(1, 4))]), [badge(TEN_HOURS)], KEY).awards
    assert award.evidence[0].achieved == 10 and award.evidence[0].required == 10
    assert award.evidence[0].seconds == 10 * 3600
    assert award.earned_at == T0 + timedelta(days=1, hours=4)


def test_earned_at_is_event_time_whatever_the_arrival_order():
    events = [("e1", shift(0, 4)), ("e2", shift(5, 4)), ("e3", shift(2, 4)), ("e4", shift(9, 4))]
    twelve = badge({"kind": "total_hours", "at_least": 12})
    outcomes = {
        (a.earned_at, a.award_id)
        for order in itertools.permutations(events)
        for a in settle(fold(list(order)), [twelve], KEY).awards
    }
    assert len(outcomes) == 1
    assert next(iter(outcomes))[0] == T0 + timedelta(days=5, hours=4)


def test_filters():
    events = [("e1", shift(0, 8, program="pantry")), ("e2", shift(1, 8, program="warehouse", role="lead"))]
    assert awarded(events, badge({**TEN_HOURS, "filter": {"program": "pantry"}})) == []
    assert awarded(events, badge(TEN_HOURS)) == ["b"]
    assert awarded(events, badge({"kind": "count", "at_least": 1, "filter": {"role": "lead"}})) == ["b"]


def test_count_and_distinct_days_and_sites():
    events = [
        ("e1", shift(0, 1, site="north")),
        ("e2", shift(0, 1, site="north")),
        ("e3", shift(1, 1, site="south")),
    ]
    assert awarded(events, badge({"kind": "count", "at_least": 3})) == ["b"]
    assert awarded(events, badge({"kind": "distinct", "field": "day", "at_least": 3})) == []
    assert awarded(events, badge({"kind": "distinct", "field": "site", "at_least": 2})) == ["b"]


def test_n_of_m_named_sessions():
    three_of_four = badge(
        {
            "kind": "distinct",
            "field": "session",
            "at_least": 3,
            "of": ["1", "2", "3", "4"],
            "filter": {"series": "bikes"},
        }
    )
    events = [("a1", attend(0, "1")), ("a2", attend(7, "2")), ("a3", attend(14, "extra"))]
    assert awarded(events, three_of_four) == []
    assert awarded([*events, ("a4", attend(21, "2"))], three_of_four) == []  # same session twice
    assert awarded([*events, ("a5", attend(21, "4"))], three_of_four) == ["b"]
    assert awarded([*events, ("a6", attend(21, "4", series="pottery"))], three_of_four) == []
    assert awarded([*events, ("a7", attend(21, "4", completed=False))], three_of_four) == []


def test_rolling_window():
    in_30_days = badge({"kind": "total_hours", "at_least": 10, "within_days": 30})
    assert awarded([("e1", shift(0, 6)), ("e2", shift(40, 6))], in_30_days) == []
    assert awarded([("e1", shift(0, 6)), ("e2", shift(40, 6)), ("e3", shift(50, 4))], in_30_days) == ["b"]


def test_a_window_of_d_days_excludes_what_is_exactly_d_days_old():
    in_7_days = badge({"kind": "total_hours", "at_least": 10, "within_days": 7})
    assert awarded([("e1", shift(0, 5)), ("e2", shift(7, 5))], in_7_days) == []
    assert awarded([("e1", shift(0, 5)), ("e2", shift(6, 5))], in_7_days) == ["b"]


def test_streak_of_consecutive_weeks():
    streak = badge({"kind": "streak", "weeks": 3})
    assert awarded([("e1", shift(0, 1)), ("e2", shift(8, 1)), ("e3", shift(22, 1))], streak) == []
    assert awarded([("e1", shift(0, 1)), ("e2", shift(8, 1)), ("e3", shift(15, 1))], streak) == ["b"]


def test_combinators():
    ten, lead = TEN_HOURS, {"kind": "count", "at_least": 2, "filter": {"role": "lead"}}
    streak = {"kind": "streak", "weeks": 2}
    events = [("e1", shift(0, 6, role="lead")), ("e2", shift(7, 6))]
    assert awarded(events, badge({"kind": "all", "of": [ten, lead]})) == []
    assert awarded(events, badge({"kind": "any", "of": [ten, lead]})) == ["b"]
    assert awarded(events, badge({"kind": "at_least_of", "n": 2, "of": [ten, lead, streak]})) == ["b"]
    with pytest.raises(ValueError, match="n is 4 but only 3"):
        badge({"kind": "at_least_of", "n": 4, "of": [ten, lead, streak]})


def test_pathway_badge_follows_in_the_same_settlement():
    first = badge(TEN_HOURS, "first")
    next_step = badge(
        {"kind": "all", "of": [{"kind": "holds_badge", "badge": "first"}, {"kind": "count", "at_least": 3}]},
        "next",
    )
    events = [("e1", shift(0, 5)), ("e2", shift(1, 5)), ("e3", shift(2, 1))]
    assert awarded(events, next_step, first) == ["first", "next"]


def test_void_takes_activity_out_and_stays_taken_out():
    progress = fold([("e1", shift(0, 6)), ("e2", shift(1, 4)), ("v1", void("e2"))])
    assert evaluate(badge(TEN_HOURS).criteria, progress).figures[0].achieved == 6
    assert record_activity(progress, "e2", shift(1, 4)) is None  # the original, redelivered late
    early_void = fold([("v1", void("e2")), ("e1", shift(0, 6)), ("e2", shift(1, 4))])
    assert early_void.activities.keys() == {"e1"}


def test_a_void_waiting_for_its_activity_is_listed_until_the_activity_arrives():
    waiting = fold([("v1", void("e9")), ("e1", shift(0, 6))])
    assert waiting.pending_voids() == ["e9"]
    assert fold([("v1", void("e9")), ("e1", shift(0, 6)), ("e9", shift(1, 4))]).pending_voids() == []
    assert fold([("e1", shift(0, 6)), ("v1", void("e1"))]).pending_voids() == []


def test_void_after_award_questions_it_once():
    outcome = settle(fold([("e1", shift(0, 6)), ("e2", shift(1, 4))]), [badge(TEN_HOURS)], KEY)
    assert len(outcome.awards) == 1
    after_void = settle(record_activity(outcome.progress, "v1", void("e2")), [badge(TEN_HOURS)], KEY)
    assert after_void.awards == []
    [question] = after_void.questions
    assert question.award_id == outcome.awards[0].award_id and question.evidence[0].achieved == 6
    again = settle(record_activity(after_void.progress, "e3", shift(2, 1)), [badge(TEN_HOURS)], KEY)
    assert again.awards == [] and again.questions == []


def test_settle_awards_once_and_records_checked_version():
    outcome = settle(fold([("e1", shift(0, 10))]), [badge(TEN_HOURS)], KEY)
    assert len(outcome.awards) == 1 and outcome.progress.checked == {"b": 1}
    progress = record_activity(outcome.progress, "e2", shift(1, 10))
    assert settle(progress, [badge(TEN_HOURS)], KEY).awards == []
    assert needs_check(progress, badge(TEN_HOURS, version=2)) and not needs_check(progress, badge(TEN_HOURS))


def test_activity_settled_without_a_class_leaves_it_unchecked():
    """A worker that has not loaded a class yet must not carry an old 'checked' mark forward:
    that would make the later re-evaluation skip a recipient who now qualifies."""
    progress = settle(fold([("e1", shift(0, 6))]), [badge(TEN_HOURS)], KEY).progress
    assert not needs_check(progress, badge(TEN_HOURS))
    progress = settle(record_activity(progress, "e2", shift(1, 4)), [], KEY).progress  # catalog still loading
    assert needs_check(progress, badge(TEN_HOURS))
    assert len(settle(progress, [badge(TEN_HOURS)], KEY).awards) == 1


def test_award_id_is_deterministic():
    [first] = settle(fold([("e1", shift(0, 10))]), [badge(TEN_HOURS)], KEY).awards
    [again] = settle(fold([("x", shift(3, 12))]), [badge(TEN_HOURS)], KEY).awards
    assert first.award_id == again.award_id


def test_questioning_cascades_to_pathway_badges():
    first = badge({"kind": "distinct", "field": "session", "at_least": 2}, "first")
    pathway = badge(
        {"kind": "all", "of": [{"kind": "holds_badge", "badge": "first"}, {"kind": "count", "at_least": 1}]},
        "pathway",
    )
    outcome = settle(fold([("a1", attend(0, "1")), ("a2", attend(7, "2"))]), [pathway, first], KEY)
    assert [a.badge_class_id for a in outcome.awards] == ["first", "pathway"]
    voided = settle(record_activity(outcome.progress, "v1", void("a1")), [pathway, first], KEY)
    assert sorted(q.badge_class_id for q in voided.questions) == ["first", "pathway"]


def repeat_badge(repeat: str, criteria: dict) -> BadgeClass:
    return BadgeClass(
        id="r",
        org_id="org",
        version=1,
        name="r",
        description="d",
        criteria_narrative="n",
        criteria=criteria,
        repeat=repeat,
    )


def test_repeat_each_calendar_year():
    yearly = repeat_badge("calendar_year", {"kind": "total_hours", "at_least": 10})
    this_year = [("a", shift(-40, 6)), ("b", shift(-35, 4)), ("x", shift(50, 3))]  # 13 hours in 2026
    next_year = [("c", shift(70, 8)), ("d", shift(80, 8))]  # 16 hours in 2027, none carried over
    outcome = settle(fold([*this_year, *next_year]), [yearly], KEY)
    assert [(a.occurrence, a.evidence[0].achieved) for a in outcome.awards] == [(2026, 13.0), (2027, 16.0)]
    assert len({a.award_id for a in outcome.awards}) == 2
    again = settle(record_activity(outcome.progress, "e", shift(90, 20)), [yearly], KEY)
    assert again.awards == [], "once per year"


def test_repeat_each_multiple():
    every_ten = repeat_badge("each_multiple", {"kind": "total_hours", "at_least": 10})
    outcome = settle(fold([("a", shift(0, 8)), ("b", shift(1, 8)), ("c", shift(2, 8))]), [every_ten], KEY)
    assert [(a.occurrence, a.evidence[0].required) for a in outcome.awards] == [(1, 10.0), (2, 20.0)]
    outcome = settle(record_activity(outcome.progress, "d", shift(3, 6)), [every_ten], KEY)
    assert [a.occurrence for a in outcome.awards] == [3]
    with pytest.raises(ValueError, match="each_multiple needs a top-level total_hours or count"):
        repeat_badge("each_multiple", {"kind": "streak", "weeks": 2})


def test_void_under_a_yearly_badge_questions_the_pathway_built_on_it():
    """Found by the property test in CI: a void undid a repeatable badge's occurrence, and the
    one-off pathway badge resting on it stood unquestioned."""
    yearly = repeat_badge("calendar_year", {"kind": "distinct", "field": "session", "at_least": 1})
    pathway = badge(
        {
            "kind": "all",
            "of": [
                {"kind": "holds_badge", "badge": "r"},
                {"kind": "distinct", "field": "day", "at_least": 1},
            ],
        },
        "next",
    )
    outcome = settle(fold([("e0", attend(0, "1")), ("e1", shift(0, 1))]), [yearly, pathway], KEY)
    assert [a.badge_class_id for a in outcome.awards] == ["r", "next"]
    voided = settle(record_activity(outcome.progress, "v0", void("e0")), [yearly, pathway], KEY)
    assert sorted(q.badge_class_id for q in voided.questions) == ["next", "r"]
    assert voided.questions[0].award_id == outcome.awards[0].award_id  # the 2026 occurrence


def test_progress_keeps_ids_bounded_and_keeps_its_figures():
    progress = Progress()
    for day in range(400):  # the same shift logged twice a day for 400 days, each with its own id
        for n in range(2):
            progress = record_activity(progress, f"d{day}-{n}", shift(day, 1.5, site=f"s{day % 3}"), keep=100)
    assert len(progress.activities) <= 100
    assert len(progress.compacted) < 400, "one record per instant and fields, not one per activity"
    assert sum(r.count for _, r in progress.records()) == 800
    figures = {
        "hours": {"kind": "total_hours", "at_least": 600},  # the same 1.5 hours counted once a day
        "count": {"kind": "count", "at_least": 800},
        "days": {"kind": "distinct", "field": "day", "at_least": 400},
        "sites": {"kind": "distinct", "field": "site", "at_least": 3},
        "streak": {"kind": "streak", "weeks": 57},
    }
    for name, criteria in figures.items():
        result = evaluate(badge(criteria).criteria, progress)
        assert result.met, name
    assert not evaluate(badge({"kind": "total_hours", "at_least": 600.01}).criteria, progress).met


def test_before_the_compacted_history_is_refused_not_counted_twice():
    progress = Progress()
    for day in range(10):
        progress = record_activity(progress, f"e{day}", shift(day, 1), keep=4)
    assert progress.compacted_before is not None and "e0" not in progress.activities
    with pytest.raises(BeforeCompactedHistory, match="earlier than this recipient's compacted history"):
        record_activity(progress, "e0", shift(0, 1), keep=4)  # a redelivery of a forgotten id
    assert record_activity(progress, "e9", shift(9, 1), keep=4) is None, "recent ids still dedupe"
    assert record_activity(progress, "late", shift(9, 2), keep=4) is not None, "recent times still accepted"


def test_an_award_on_compacted_history_is_the_same_award():
    events = [(f"e{day}", shift(day, 1)) for day in range(30)]
    whole = settle(fold(events), [badge(TEN_HOURS)], KEY).awards
    progress = Progress()
    for event_id, data in events:
        progress = record_activity(progress, event_id, data, keep=4)
    bounded = settle(progress, [badge(TEN_HOURS)], KEY).awards
    assert [(a.award_id, a.earned_at) for a in bounded] == [(a.award_id, a.earned_at) for a in whole]
    assert [e.achieved for e in bounded[0].evidence] == [30]


def test_stored_progress_from_before_compaction_still_loads():
    stored = '{"activities": {}, "voided": ["e1", "e2"], "awarded": {}, "questioned": [], "checked": {}}'
    progress = Progress.model_validate_json(stored)
    arrived = record_activity(progress, "e1", shift(0, 1))
    assert arrived is not None and "e1" not in arrived.activities, "a voided id stays voided"
    assert record_activity(arrived, "e1", shift(0, 1)) is None


def test_the_whole_history_is_never_compacted_whatever_its_order():
    events = [(f"e{day}", shift(day, 1)) for day in range(1100)][::-1]  # newest first
    assert [a.occurrence for a in awards_for_history(events, [badge(TEN_HOURS)], KEY)] == [1]


def test_stored_progress_with_hours_as_floats_still_loads():
    stored = (
        '{"activities": {"e1": {"at": "2026-11-02T12:20:00Z", "kind": "volunteer_shift", "hours": 3.3333}},'
        ' "compacted": [{"at": "2026-11-01T20:00:00Z", "kind": "volunteer_shift", "hours": 6.6667,'
        ' "count": 2}]}'
    )
    progress = Progress.model_validate_json(stored)
    assert [r.seconds for _, r in progress.records()] == [12000, 24000]
    assert "hours" not in progress.stored().decode()


def shift_between(start: str, end: str, **fields) -> VolunteerShiftLogged:
    return VolunteerShiftLogged(
        recipient_key=KEY,
        started_at=datetime.fromisoformat(start),
        ended_at=datetime.fromisoformat(end),
        **fields,
    )


def test_three_shifts_of_3h20_are_exactly_ten_hours():
    by_times = [(f"t{d}", shift_between(f"2026-11-0{d}T09:00Z", f"2026-11-0{d}T12:20Z")) for d in (2, 3, 4)]
    by_hours = [(f"h{d}", shift(d, 10 / 3)) for d in (0, 1, 2)]  # `hours` as a number converts once
    for events in (by_times, by_hours):
        [award] = settle(fold(events), [badge(TEN_HOURS)], KEY).awards
        assert award.evidence[0].model_dump() == {
            "measure": "hours",
            "achieved": 10.0,
            "required": 10.0,
            "seconds": 36000,
        }
    [figure] = progress_figures(by_times[:2])
    assert (figure.achieved, figure.seconds) == (6.66, 24000), "rounded down for display, exact in seconds"


def progress_figures(events: list) -> list:
    [report] = progress_report(fold(events), [badge(TEN_HOURS)])
    return report.figures


def test_the_same_person_in_one_slot_twice_counts_the_time_once():
    slot = [(f"e{n}", shift(0, 3)) for n in range(200)]  # 200 shifts in one 3-hour slot
    assert awarded(slot, badge(TEN_HOURS)) == []
    assert [(f.achieved, f.seconds) for f in progress_figures(slot)] == [(3.0, 3 * 3600)]
    overlapping = [  # 09:00-12:00, 11:00-14:00 and 13:00-13:30: five hours of time, not six and a half
        ("a", shift_between("2026-11-02T09:00Z", "2026-11-02T12:00Z")),
        ("b", shift_between("2026-11-02T11:00Z", "2026-11-02T14:00Z", program="kitchen")),
        ("c", shift_between("2026-11-02T13:00Z", "2026-11-02T13:30Z")),
    ]
    assert [f.seconds for f in progress_figures(overlapping)] == [5 * 3600]
    kitchen = badge({"kind": "total_hours", "at_least": 3, "filter": {"program": "kitchen"}})
    assert awarded(overlapping, kitchen) == ["b"], "a filter counts the time of the activities it matches"
    # Counts count each activity, overlapping or not (README): hours are the time given.
    assert awarded(slot, badge({"kind": "count", "at_least": 200})) == ["b"]
    events = [*slot, ("later", shift(1, 7))]
    assert awards_for_history(events, [badge(TEN_HOURS)], KEY)[0].earned_at == T0 + timedelta(days=1, hours=7)


def zoned(criteria: dict, timezone: str, **fields) -> BadgeClass:
    return BadgeClass(
        id="z",
        org_id="org",
        version=1,
        name="z",
        description="d",
        criteria_narrative="n",
        criteria=criteria,
        timezone=timezone,
        **fields,
    )


def at(moment: str) -> VolunteerShiftLogged:
    """A one-hour shift ending at `moment`, written with whatever offset `moment` has."""
    end = datetime.fromisoformat(moment)
    return VolunteerShiftLogged(recipient_key=KEY, started_at=end - timedelta(hours=1), ended_at=end)


def test_calendar_criteria_count_in_the_organisations_time_zone_not_the_events_offset():
    # 23:30 on New Year's Eve in Chicago (-06:00) is 05:30 on 1 January in UTC.
    written = ["2026-12-31T23:30:00-06:00", "2027-01-01T05:30:00Z", "2027-01-01T00:30:00-05:00"]
    yearly = {"kind": "count", "at_least": 1}
    for moment in written:  # the same instant, whichever offset it was written in
        [award] = settle(
            fold([("e", at(moment))]), [zoned(yearly, "America/Chicago", repeat="calendar_year")], KEY
        ).awards
        assert award.occurrence == 2026
        [award] = settle(
            fold([("e", at(moment))]), [zoned(yearly, "UTC", repeat="calendar_year")], KEY
        ).awards
        assert award.occurrence == 2027
    # Sunday 22:00 and Monday 21:00 in Chicago: one day apart, in two ISO weeks there and
    # written in UTC as Monday 04:00 and Tuesday 03:00, the same week.
    sunday, monday = at("2026-11-09T04:00:00Z"), at("2026-11-09T21:00:00-06:00")
    streak = {"kind": "streak", "weeks": 2}
    assert awarded([("a", sunday), ("b", monday)], zoned(streak, "America/Chicago")) == ["z"]
    assert awarded([("a", sunday), ("b", monday)], zoned(streak, "UTC")) == []
    two_days = {"kind": "distinct", "field": "day", "at_least": 2}
    late, early = at("2026-11-10T03:00:00Z"), at("2026-11-09T23:00:00-05:00")  # 21:00 and 22:00 in Chicago
    assert awarded([("a", late), ("b", early)], zoned(two_days, "America/Chicago")) == []
    assert awarded([("a", late), ("b", early)], zoned(two_days, "UTC")) == [], "both 10 November in UTC"
    assert awarded([("a", sunday), ("b", late)], zoned(two_days, "America/Chicago")) == ["z"]


def test_a_badge_class_time_zone_is_an_iana_name():
    assert zoned(TEN_HOURS, "Europe/London").timezone == "Europe/London"
    for bad in ("Mars/Olympus", "+05:00", "../etc/passwd", ""):
        with pytest.raises(ValueError, match=r"time zone|at least 1 character"):
            zoned(TEN_HOURS, bad)
