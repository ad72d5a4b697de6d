"""What the chaos run sends and breaks, worked out in advance from a seed (pure: no I/O).

Two organisations and the demo's six badge classes (a repeating sum, a streak, a rolling
window, a pathway, N of M sessions, a second pathway) for many made-up volunteers; their events
go out in three phases, as batches and single posts:

- early: the voids of entries made twice, and the first half of the events in time order;
- middle: the second half, in time order (retries through faults reorder some of them);
- late: a tenth of the events held back (late events), duplicates of events already accepted (a
  rota tool retrying), and the entries made twice, which their voids, already accepted, keep
  from counting.

A void is accepted before the entry it takes back, so which awards the whole history earns does
not depend on the order Cairn processed things in, and the verdict on them can be exact. A
credential's figures and date can depend on it: one is signed as soon as what has arrived meets
the criteria, and an earlier-dated event arriving later cannot change a signed credential.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cairn.adapters.kafka import topics
from devtools.demo_season import FIRST, FIXIT, LAST, RIVERSIDE, fixit_events, riverside_events

EARLY, MIDDLE, LATE = "early", "middle", "late"
PHASES = (EARLY, MIDDLE, LATE)
SERVICES_KILLED = (
    "gateway",
    "aggregator",
    "aggregator-2",
    "signer",
    "signer-2",
    "notifier",
    "notifier-2",
)
# Every topic a service consumes and dead-letters, and two records no service can read.
POISONED_TOPICS = (
    topics.ACTIVITY,
    topics.AWARDS,
    topics.AWARD_QUESTIONS,
    topics.PROGRESS,
    topics.CREDENTIALS,
    topics.CLAIM_EMAIL_RESENDS,
    topics.CREDENTIAL_CHANGES,
    topics.WEBHOOK_DELIVERIES,
)


@dataclass(frozen=True)
class Post:
    """One request: a batch (POST /v1/events {"events": [...]}) or one event on its own."""

    org: str  # slug
    phase: str
    events: tuple[dict[str, Any], ...]
    single: bool


@dataclass(frozen=True)
class Poison:
    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True)
class Fault:
    """At `at` seconds into the sending: kill a service (`target` its instance name), kill or
    restart a broker (`target` its index), restart the database, or open an SMTP fault window
    of `seconds`."""

    at: float
    kind: str  # kill | broker-kill | broker-start | database-restart | smtp
    target: str = ""
    seconds: float = 0.0


@dataclass
class Plan:
    posts: list[Post]
    poison: list[Poison]
    faults: list[Fault]
    people: list[dict[str, str]]
    counts: dict[str, int] = field(default_factory=dict)


def people(count: int, seed: int) -> list[dict[str, str]]:
    """Made-up volunteers: names repeat, as in any town; each email is different."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        found.append({"name": f"{first} {last}", "email": f"{first}.{last}.{n}@example.org".lower()})
    return found


def histories(anchor: datetime, volunteers: list[dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """Everyone helps at both the food bank and the repair café (each organisation knows them by
    its own recipient key). Event ids carry the person's place in the list, so the same plan
    gives the same ids."""
    return {
        RIVERSIDE.slug: riverside_events(anchor, volunteers),
        FIXIT.slug: fixit_events(anchor, volunteers),
    }


def _twice_entered(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same shift entered again under another id, and the void that takes it back."""
    again = {**event, "id": f"{event['id']}-again"}
    person = event.get("volunteer") or event["attendee"]
    void = {
        "id": f"void-{again['id']}",
        "type": "activity_voided",
        "voids": again["id"],
        "reason": "entered twice",
        "volunteer": {"email": person["email"]},
    }
    return again, void


def _posts(org: str, phase: str, events: list[dict[str, Any]], rng: random.Random) -> list[Post]:
    """About a third of the events as single posts, the rest in batches of 1 to 40."""
    posts, rest = [], list(events)
    while rest:
        if rng.random() < 0.3:
            posts.append(Post(org, phase, (rest.pop(0),), single=True))
        else:
            size = rng.randint(1, 40)
            posts.append(Post(org, phase, tuple(rest[:size]), single=False))
            rest = rest[size:]
    return posts


def event_time(event: dict[str, Any]) -> str:
    """When the activity happened (a void has no time of its own)."""
    return event.get("started_at") or event.get("attended_at") or ""


def _interleave(first: list[Post], second: list[Post], rng: random.Random) -> list[Post]:
    """Both organisations' posts in one stream, each keeping its own order."""
    merged, a, b = [], list(first), list(second)
    while a or b:
        merged.append((a if a and (not b or rng.random() < len(a) / (len(a) + len(b))) else b).pop(0))
    return merged


def sends(by_org: dict[str, list[dict[str, Any]]], rng: random.Random) -> tuple[list[Post], dict[str, int]]:
    """The posts of each phase, organisations interleaved, and how many of each kind of event.
    A rota tool sends in time order, so most events do; a tenth are held back to the end."""
    phases: dict[str, list[Post]] = {phase: [] for phase in PHASES}
    counts = {"events": 0, "duplicates": 0, "late": 0, "voids": 0, "entered_twice": 0}
    for org, events in by_org.items():
        late = rng.sample(events, len(events) // 10)
        held = {e["id"] for e in late}
        rest = sorted((e for e in events if e["id"] not in held), key=lambda e: (event_time(e), e["id"]))
        half = len(rest) // 2
        shifts = [e for e in events if e["type"] == "volunteer_shift"]
        mistaken = rng.sample(shifts, min(len(shifts), max(1, len(events) // 40)))
        again = [_twice_entered(e) for e in mistaken]
        duplicates = rng.sample(rest, min(len(rest), max(1, len(events) // 8)))
        tail = rng.sample(late + duplicates + [a for a, _ in again], len(late) + len(duplicates) + len(again))
        for phase, sent in (
            (EARLY, [void for _, void in again] + rest[:half]),
            (MIDDLE, rest[half:]),
            (LATE, tail),
        ):
            phases[phase] = _interleave(phases[phase], _posts(org, phase, sent, rng), rng)
        counts["events"] += len(events) + 2 * len(again) + len(duplicates)
        counts["duplicates"] += len(duplicates)
        counts["late"] += len(late)
        counts["voids"] += len(again)
        counts["entered_twice"] += len(again)
    posts = [p for phase in PHASES for p in phases[phase]]
    counts["posts"] = len(posts)
    counts["single_posts"] = sum(p.single for p in posts)
    return posts, counts


def poison() -> list[Poison]:
    """Two records per consumed topic that no service can read: not JSON, and JSON that is no
    CloudEvent of Cairn's. Nothing in them is personal."""
    found = []
    for n, topic in enumerate(POISONED_TOPICS):
        found.append(Poison(topic, f"chaos-poison-{n}-a".encode(), f"{{not json from chaos {n}".encode()))
        found.append(
            Poison(topic, f"chaos-poison-{n}-b".encode(), f'{{"chaos": {n}, "specversion": "0.1"}}'.encode())
        )
    return found


def faults(
    seconds: float, rng: random.Random, kills_per_service: int, brokers: int, smtp_seconds: float
) -> list[Fault]:
    """Each service instance SIGKILLed `kills_per_service` times at random moments between 10%
    and 85% of the sending; with a cluster, one broker killed at 35% and restarted at 55%; the
    database restarted at 50%; the SMTP server faulty from 20% for `smtp_seconds`."""
    found = [
        Fault(rng.uniform(0.10, 0.85) * seconds, "kill", service)
        for service in SERVICES_KILLED
        for _ in range(kills_per_service)
    ]
    if brokers > 1:
        found += [Fault(0.35 * seconds, "broker-kill"), Fault(0.55 * seconds, "broker-start")]
    found.append(Fault(0.50 * seconds, "database-restart"))
    found.append(Fault(0.20 * seconds, "smtp", seconds=smtp_seconds))
    return sorted(found, key=lambda f: f.at)


def plan(
    volunteers: int, seconds: float, anchor: datetime, seed: int = 15, kills_per_service: int = 2,
    brokers: int = 3, smtp_seconds: float = 60.0,
) -> Plan:  # fmt: skip
    rng = random.Random(seed)
    folk = people(volunteers, seed)
    posts, counts = sends(histories(anchor, folk), rng)
    return Plan(posts, poison(), faults(seconds, rng, kills_per_service, brokers, smtp_seconds), folk, counts)
