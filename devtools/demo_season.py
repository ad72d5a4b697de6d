"""The demo's season: two organisations, their six badge classes, and three months of shifts and
workshop sessions for a few dozen made-up volunteers.

Everything comes from a fixed seed and the demo's first-run date (the anchor), so a rerun builds
the same events with the same ids and contents, and the pipeline counts each once.
"""

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cairn.usecases.criteria_check import awards_from_lines, load_badge_classes

SEED = 16
SEASON_DAYS = 90


@dataclass(frozen=True)
class DemoOrg:
    name: str
    slug: str
    url: str
    env_prefix: str  # its lines in var/demo.env


RIVERSIDE = DemoOrg("Riverside Food Bank", "riverside", "https://riverside.example.org", "CAIRN_DEMO")
FIXIT = DemoOrg("Fixit Repair Café", "fixit-cafe", "https://fixit.example.org", "CAIRN_DEMO_FIXIT")
ORGS = (RIVERSIDE, FIXIT)

BADGES: dict[str, list[dict[str, Any]]] = {
    RIVERSIDE.slug: [
        {
            "id": "pantry-10-hours",
            "name": "Pantry volunteer: every 10 hours",
            "description": "Gave ten hours sorting and handing out food at the Riverside Food Bank pantry.",
            "criteria_narrative": "Log 10 hours of pantry shifts; earned again at 20, 30 and so on.",
            "repeat": "each_multiple",
            "criteria": {"kind": "total_hours", "at_least": 10, "filter": {"program": "pantry"}},
        },
        {
            "id": "weekly-regular",
            "name": "Weekly regular",
            "description": "Came to the pantry every week for a month.",
            "criteria_narrative": "Work a pantry shift in each of 4 consecutive weeks.",
            "criteria": {"kind": "streak", "weeks": 4, "filter": {"program": "pantry"}},
        },
        {
            "id": "busy-month",
            "name": "Busy month",
            "description": "Six pantry shifts within thirty days.",
            "criteria_narrative": "Work 6 pantry shifts within any 30 days.",
            "criteria": {"kind": "count", "at_least": 6, "within_days": 30, "filter": {"program": "pantry"}},
        },
        {
            "id": "delivery-lead",
            "name": "Delivery lead",
            "description": "A weekly regular who also drives the home-delivery round.",
            "criteria_narrative": "Hold the Weekly regular badge and do 2 delivery shifts.",
            "criteria": {
                "kind": "all",
                "of": [
                    {"kind": "holds_badge", "badge": "weekly-regular"},
                    {"kind": "count", "at_least": 2, "filter": {"program": "delivery"}},
                ],
            },
        },
    ],
    FIXIT.slug: [
        {
            "id": "bike-repair",
            "name": "Bike repair: 3 of 4 sessions",
            "description": "Came to three of the four autumn bike repair sessions.",
            "criteria_narrative": "Attend at least 3 of the 4 sessions of the autumn series.",
            "criteria": {
                "kind": "distinct",
                "field": "session",
                "at_least": 3,
                "of": ["1", "2", "3", "4"],
                "filter": {"series": "bike-repair"},
            },
        },
        {
            "id": "fixer",
            "name": "Fixer",
            "description": "Finished the bike repair series and gave 2 hours at the open workshop.",
            "criteria_narrative": "Hold the bike repair badge and log 2 hours of open-workshop shifts.",
            "criteria": {
                "kind": "all",
                "of": [
                    {"kind": "holds_badge", "badge": "bike-repair"},
                    {"kind": "total_hours", "at_least": 2, "filter": {"program": "open-workshop"}},
                ],
            },
        },
    ],
}

FIRST = """Ana Ben Chi Dara Eli Femi Gus Hana Ivo Jo Kai Lena Mo Nia Omar Pia Quin Rosa Sam Tariq
    Uma Vic Wen Yara Zoe""".split()
LAST = """Adeyemi Brook Costa Dubois Evans Fraser Garcia Haddad Ito Jensen Kowalski Lund Mensah
    Novak Okafor Patel""".split()


def volunteers(count: int = 36) -> list[dict[str, str]]:
    """Made-up people with @example.org addresses, the same list every time."""
    rng = random.Random(SEED)
    pairs = rng.sample([(f, last) for f in FIRST for last in LAST], count)
    return [{"email": f"{f}.{last}@example.org".lower(), "name": f"{f} {last}"} for f, last in pairs]


def _at(anchor: datetime, days_back: int, hour: int) -> str:
    return (
        (anchor - timedelta(days=days_back)).replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()
    )


def _shift(eid: str, person: dict[str, str], when: str, hours: float, program: str) -> dict[str, Any]:
    return {
        "id": eid,
        "type": "volunteer_shift",
        "volunteer": person,
        "started_at": when,
        "hours": hours,
        "program": program,
    }


def riverside_events(anchor: datetime, people: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Six kinds of volunteer in turn: regulars, regular drivers, newcomers, a busy month,
    the irregular, and drivers only."""
    rng = random.Random(SEED + 1)
    events = []
    for i, person in enumerate(people):
        kind = i % 6
        last = rng.randint(1, 6)  # days before the anchor of their latest shift
        if kind in (0, 1):
            days = [last + 7 * k for k in range(rng.randint(3, 11))]
        elif kind == 2:
            days = [last + 7 * k for k in range(rng.randint(1, 2))]
        elif kind == 3:  # two a week for three weeks, a month ago
            days = [30 + last + d for d in (0, 3, 7, 10, 14, 17)]
        elif kind == 4:
            days = sorted(rng.sample(range(1, SEASON_DAYS), rng.randint(2, 5)))
        else:
            days = []
        hours = {0: 3.0, 1: 3.0, 2: 3.0, 3: 1.5, 4: 2.5}.get(kind, 0)
        for n, back in enumerate(days):
            events.append(_shift(f"rv-{i}-shift-{n}", person, _at(anchor, back, 9), hours, "pantry"))
        if kind in (1, 5):
            for n in range(1 + (kind == 1) + (i % 4 == 1)):
                events.append(
                    _shift(f"rv-{i}-drive-{n}", person, _at(anchor, last + 2 + 9 * n, 14), 2, "delivery")
                )
    return events


def fixit_events(anchor: datetime, people: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The autumn bike repair series (four weekly sessions about ten weeks back) and open-workshop
    shifts since."""
    rng = random.Random(SEED + 2)
    events: list[dict[str, Any]] = []
    for i, person in enumerate(people):
        kind = i % 3
        sessions = sorted(rng.sample(["1", "2", "3", "4"], {0: rng.choice([3, 4]), 1: 2, 2: 3}[kind]))
        for session in sessions:
            events.append(
                {
                    "id": f"fx-{i}-session-{session}",
                    "type": "workshop_attendance",
                    "attendee": person,
                    "series": "bike-repair",
                    "session": session,
                    "attended_at": _at(anchor, 70 - 7 * (int(session) - 1), 18),
                    "minutes": 90,
                }
            )
        for n in range({0: 2, 1: 0, 2: 1}[kind]):
            when = _at(anchor, 40 - 10 * n - rng.randint(0, 5), 10)
            events.append(_shift(f"fx-{i}-open-{n}", person, when, 1.5, "open-workshop"))
    return events


def people_of(slug: str) -> list[dict[str, str]]:
    """Each organisation's volunteers; six of them help at both."""
    people = volunteers()
    return people[:24] if slug == RIVERSIDE.slug else people[18:]


def season(anchor: datetime) -> dict[str, list[dict[str, Any]]]:
    """Each organisation's events, by slug: the same for the same anchor."""
    return {
        RIVERSIDE.slug: riverside_events(anchor, people_of(RIVERSIDE.slug)),
        FIXIT.slug: fixit_events(anchor, people_of(FIXIT.slug)),
    }


def questioned(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The void that undoes an earned award: one shift of the first busy month (a questioned
    Busy month badge). Posted after the awards, so the award is made and then questioned."""
    shift = next(e for e in events if e["id"] == "rv-3-shift-2")
    return {
        "id": "rv-void-3-shift-2",
        "type": "activity_voided",
        "voids": shift["id"],
        "reason": "the shift was cancelled, signed in by mistake",
        "volunteer": shift["volunteer"],
    }


REVOKE = {
    "org": RIVERSIDE.slug,
    "badge": "pantry-10-hours",
    "person": 0,
    "reason": "hours logged for the wrong person",
}


def expected_awards(slug: str, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(email, badge class) of each award the events earn, repeats included: what the pipeline
    should sign, worked out here by the same rules without Kafka."""
    classes = load_badge_classes(json.dumps(BADGES[slug]))
    found = awards_from_lines((json.dumps(e) for e in events), classes)
    return sorted((a["recipient"], a["badge_class_id"]) for a in found)
