"""The badge builder's plain words for criteria: what a coordinator reads while building."""

import pytest

from cairn.domain.criteria.wording import describe, describe_class
from schemas.badge_class import BadgeClassIn


def badge(criteria: dict, **extra: object) -> BadgeClassIn:
    return BadgeClassIn(id="b", name="B", description="d", criteria_narrative="n", criteria=criteria, **extra)


@pytest.mark.parametrize(
    ("criteria", "extra", "words"),
    [
        (
            {
                "kind": "total_hours",
                "at_least": 10,
                "within_days": 90,
                "filter": {"program": "pantry", "kind": "volunteer_shift"},
            },
            {},
            "10 hours of pantry shifts within 90 days.",
        ),
        ({"kind": "total_hours", "at_least": 2.5}, {}, "2.5 hours of activity."),
        (
            {"kind": "total_hours", "at_least": 1, "filter": {"role": "driver", "site": "Depot"}},
            {},
            "1 hour of activity as driver at Depot.",
        ),
        (
            {"kind": "count", "at_least": 6, "within_days": 30, "filter": {"kind": "volunteer_shift"}},
            {"repeat": "each_multiple"},
            "6 shifts within 30 days; earned again at every further 6 shifts.",
        ),
        (
            {"kind": "count", "at_least": 1, "filter": {"kind": "workshop_attendance"}},
            {},
            "1 workshop session.",
        ),
        (
            {
                "kind": "distinct",
                "field": "session",
                "at_least": 3,
                "of": ["Brakes", "Gears", "Wheels", "Chains"],
                "filter": {"series": "Bike repair"},
            },
            {"expires_after_days": 365},
            "3 of these sessions of the Bike repair series: Brakes, Gears, Wheels, Chains; "
            "expires 365 days after it is awarded.",
        ),
        ({"kind": "distinct", "field": "day", "at_least": 5}, {}, "Activity on 5 different days."),
        (
            {"kind": "distinct", "field": "site", "at_least": 2, "filter": {"kind": "volunteer_shift"}},
            {},
            "Shifts at 2 different sites.",
        ),
        (
            {"kind": "streak", "weeks": 4, "filter": {"program": "pantry", "kind": "volunteer_shift"}},
            {"repeat": "calendar_year"},
            "Pantry shifts in each of 4 consecutive weeks; "
            "earned again each calendar year it is met within that year.",
        ),
        (
            {
                "kind": "all",
                "of": [
                    {"kind": "holds_badge", "badge": "pantry-10"},
                    {"kind": "holds_badge", "badge": "gone"},
                ],
            },
            {},
            "Holds the badge “Pantry: 10 hours” and holds the badge “gone”.",
        ),
        (
            {
                "kind": "at_least_of",
                "n": 2,
                "of": [
                    {"kind": "total_hours", "at_least": 20},
                    {
                        "kind": "any",
                        "of": [{"kind": "streak", "weeks": 3}, {"kind": "count", "at_least": 12}],
                    },
                    {"kind": "holds_badge", "badge": "pantry-10"},
                ],
            },
            {},
            "At least 2 of: 20 hours of activity, (activity in each of 3 consecutive weeks or 12 activities) "
            "and holds the badge “Pantry: 10 hours”.",
        ),
    ],
)
def test_plain_words(criteria: dict, extra: dict, words: str) -> None:
    assert describe_class(badge(criteria, **extra), {"pantry-10": "Pantry: 10 hours"}) == words


def test_three_alternatives_are_listed_as_any_of() -> None:
    criteria = badge(
        {
            "kind": "any",
            "of": [
                {"kind": "total_hours", "at_least": 10},
                {"kind": "count", "at_least": 5},
                {"kind": "distinct", "field": "session", "at_least": 2},
            ],
        }
    ).criteria
    assert describe(criteria) == "any of: 10 hours of activity, 5 activities or 2 different sessions"
