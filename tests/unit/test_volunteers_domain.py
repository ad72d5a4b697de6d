"""Pure rules of the volunteer pages: natural sort keys, closeness to a badge, pathways shown as
one item with their parts, and which void undid a questioned award."""

from datetime import UTC, datetime, timedelta

from cairn.domain.volunteers import (
    ActivityEntry,
    closeness,
    describe,
    natural_key,
    progress_items,
    void_behind,
    void_id_for,
)
from schemas.awards import BadgeProgress, Evidence
from schemas.badge_class import BadgeClass

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _badge(badge_id: str, name: str, criteria: dict) -> BadgeClass:
    return BadgeClass(
        id=badge_id,
        name=name,
        description="d",
        criteria_narrative="n",
        criteria=criteria,
        org_id="o",
        version=1,
    )


def _progress(badge_id: str, *shares: tuple[float, float], awarded: bool = False) -> BadgeProgress:
    figures = [Evidence(measure="hours", achieved=a, required=r) for a, r in shares]
    return BadgeProgress(
        badge_class_id=badge_id,
        badge_class_version=1,
        name="?",
        awarded=awarded,
        questioned=False,
        figures=figures,
    )


def test_names_sort_naturally_and_without_regard_to_case():
    names = ["volunteer 10", "Volunteer 9", "Volunteer 100", "ada", "Volunteer 09b", "Bob  Smith"]
    assert sorted(names, key=natural_key) == [
        "ada",
        "Bob  Smith",
        "Volunteer 9",
        "Volunteer 09b",
        "volunteer 10",
        "Volunteer 100",
    ]
    assert natural_key("Bob  Smith") == natural_key("bob smith")
    assert len(natural_key("x" * 500)) == 200


def test_closeness_is_the_nearest_badge_not_yet_held():
    held = _progress("a", (20, 10), awarded=True)
    half = _progress("b", (5, 10))
    mixed = _progress("c", (9, 10), (1, 2))  # 0.9 and 0.5: 0.7 on average
    assert closeness([held, half]) == 0.5
    assert closeness([held, half, mixed]) == 0.7
    assert closeness([held]) == 0 and closeness([]) == 0


def test_a_pathway_is_one_item_with_its_parts_by_name():
    classes = [
        _badge("pantry-10", "Pantry: 10 hours", {"kind": "total_hours", "at_least": 10}),
        _badge("six", "Six shifts", {"kind": "count", "at_least": 6}),
        _badge("other", "Streak", {"kind": "streak", "weeks": 4}),
        _badge(
            "lead",
            "Pantry lead",
            {
                "kind": "any",
                "of": [
                    {"kind": "holds_badge", "badge": "pantry-10"},
                    {"kind": "all", "of": [{"kind": "holds_badge", "badge": "six"}]},
                ],
            },
        ),
    ]
    pantry = _progress("pantry-10", (4, 10))
    items = progress_items([pantry], classes)
    assert [(i.name, [p.name for p in i.parts]) for i in items] == [
        ("Streak", []),
        ("Pantry lead", ["Pantry: 10 hours", "Six shifts"]),
    ]
    assert items[1].parts[0].progress == pantry and items[1].parts[1].progress is None


def test_the_void_behind_a_question_is_the_latest_before_it():
    shift = ActivityEntry(
        "s1", "k", "volunteer_shift", T0, 4 * 3600, "pantry", voided_by="v1", void_reason="typo"
    )
    other = ActivityEntry("s2", "k", "volunteer_shift", T0, 3600, "", voided_by="v2", void_reason="later")
    voids = [
        ActivityEntry("v1", "k", "activity_voided", T0 + timedelta(days=1), voids="s1", reason="typo"),
        ActivityEntry("v2", "k", "activity_voided", T0 + timedelta(days=5), voids="s2", reason="later"),
    ]
    history = [shift, other, *voids]
    assert void_behind(history, T0 + timedelta(days=2)) == shift
    assert void_behind(history, T0 + timedelta(days=6)) == other
    assert void_behind(history, T0) is None
    assert describe(shift) == "shift on 2026-11-01 (4 h) · pantry"


def test_the_dashboards_void_id_is_the_same_each_time_and_fits():
    assert void_id_for("rota-42") == "void-rota-42" == void_id_for("rota-42")
    long = void_id_for("x" * 200)
    assert len(long) <= 200 and long != void_id_for("x" * 199 + "y")
