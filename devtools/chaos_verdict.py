"""The chaos run's verdict, from what the system did (pure: the run collects, these compare).

Nothing here trusts Cairn's own counters: the expected awards come from `cairn criteria check`
over every event the gateway accepted, the credentials from the store, the emails from the SMTP
server's mailbox, the dead letters and the personal-data scan from the topics themselves.
"""

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devtools.chaos_plan import Poison

MEMORY_LIMIT = 1.5  # at the end, each service within this many times its memory after warm-up
_EMAIL = re.compile(rb"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)


@dataclass(frozen=True)
class Issued:
    credential_id: str
    award_id: str
    dates: tuple[str, ...]  # the dates its evidence gives for when it was earned


def out_of_order(arrivals: list[tuple[float, float, str]]) -> bool:
    """(first attempt sent, accepted, when it happened) of one volunteer's events at one
    organisation: may an event have reached Cairn after one that happened later than it? Posts
    in flight together (or a post retried after a kill, which may have gone through the first
    time) can reach Kafka in either order, so "after" means accepted after the other was sent."""
    dated = [a for a in arrivals if a[2]]
    return any(e[2] < f[2] and e[1] > f[0] for e in dated for f in dated)


def credentials_verdict(
    expected: dict[str, tuple[str, ...]], issued: list[Issued], arrived_late: set[str] = frozenset()
) -> dict[str, Any]:
    """Expected: award id -> the dates its credential should say it was earned on (from the
    whole history). Lost: expected, never issued; unexpected: issued, never earned; twice: one
    award, two credentials; other dates: issued with another date although none of that
    volunteer's events arrived out of time order (`arrived_late`: the awards whose volunteer's
    did; their credential was rightly signed on what had arrived by then, and is only counted)."""
    per_award = Counter(i.award_id for i in issued)
    found = {i.award_id: i for i in issued}
    differ = {a for a, i in found.items() if a in expected and i.dates != expected[a]}
    different = sorted(differ - arrived_late)
    return {
        "expected": len(expected),
        "issued": len(issued),
        "lost": sorted(set(expected) - set(found)),
        "unexpected": sorted(set(found) - set(expected)),
        "twice": sorted(a for a, n in per_award.items() if n > 1),
        "other_dates": [
            {"award_id": a, "expected": expected[a], "issued": found[a].dates} for a in different
        ],
        "signed_before_a_late_event": len(differ & arrived_late),
    }


def emails_verdict(message_ids: dict[str, str], stored: Iterable[str]) -> dict[str, Any]:
    """message_ids: credential id -> the Message-ID of its claim email; stored: the Message-ID
    of each message the SMTP server accepted. Each credential exactly one accepted message."""
    accepted = Counter(stored)
    expected = set(message_ids.values())
    return {
        "accepted": sum(accepted.values()),
        "credentials_without_email": sorted(c for c, m in message_ids.items() if accepted[m] == 0),
        "emailed_twice": sorted(c for c, m in message_ids.items() if accepted[m] > 1),
        "emails_for_no_credential": sorted(m for m in accepted if m not in expected),
    }


def dead_letters_verdict(injected: list[Poison], letters: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """letters: topic -> its DLQ's letters, one per poisoned position. Exactly the injected
    records, each with a cause; nothing else."""
    wanted = Counter((p.topic, p.value.decode()) for p in injected)
    got = Counter((topic, letter["value"]) for topic, found in letters.items() for letter in found)
    return {
        "injected": sum(wanted.values()),
        "dead_lettered": sum(got.values()),
        "missing": sorted(f"{t}: {v}" for t, v in (wanted - got).elements()),
        "unexpected": sorted(f"{t}: {v[:300]}" for t, v in (got - wanted).elements()),
        "without_cause": sum(1 for found in letters.values() for letter in found if not letter.get("error")),
    }


def personal_data_found(
    records: dict[str, list[tuple[bytes, bytes]]], emails: Iterable[str], names: Iterable[str]
) -> list[str]:
    """Where any volunteer's email or name appears in a record's key or value: topic and offset
    index. Any email address at all is reported, so a new kind of leak shows too."""
    known_names = [n.encode() for n in set(names)]
    known_emails = {e.lower().encode() for e in emails}
    found = []
    for topic, pairs in records.items():
        for n, (key, value) in enumerate(pairs):
            data = key + b"\0" + value
            for match in _EMAIL.finditer(data):
                kind = "volunteer email" if match.group().lower() in known_emails else "an email address"
                found.append(f"{topic} record {n}: {kind}")
            if any(name in data for name in known_names):
                found.append(f"{topic} record {n}: a volunteer's name")
    return found


def memory_verdict(after_warm_up: dict[str, float], at_end: dict[str, float]) -> dict[str, Any]:
    """Each service's RSS at the end against after warm-up (every instance of a service summed)."""
    ratios = {s: round(at_end[s] / mb, 2) for s, mb in after_warm_up.items() if mb > 0 and s in at_end}
    return {
        "after_warm_up_mb": after_warm_up,
        "at_end_mb": at_end,
        "ratio": ratios,
        "within_limit": all(r <= MEMORY_LIMIT for r in ratios.values()) and bool(ratios),
    }


def delays_outside_faults(
    pairs: list[tuple[float, float]], windows: list[tuple[float, float]]
) -> dict[str, Any]:
    """(accepted, emailed) times of each email; those whose span touches no fault window count."""
    calm = sorted(e - a for a, e in pairs if not any(a <= end and e >= start for start, end in windows))
    if not calm:
        return {"emails": 0}
    p99 = calm[min(len(calm) - 1, round(0.99 * (len(calm) - 1)))]
    return {"emails": len(calm), "p50_s": round(statistics.median(calm), 2), "p99_s": round(p99, 2)}


def passed(verdict: dict[str, Any]) -> bool:
    c, m, d = verdict["credentials"], verdict["emails"], verdict["dead_letters"]
    return (
        not (c["lost"] or c["unexpected"] or c["twice"] or c["other_dates"])
        and not (m["credentials_without_email"] or m["emailed_twice"] or m["emails_for_no_credential"])
        and not (d["missing"] or d["unexpected"] or d["without_cause"])
        and not verdict["personal_data"]
        and verdict["memory"]["within_limit"]
    )
