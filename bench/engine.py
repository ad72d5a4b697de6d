"""The criteria engine alone, in-process, no Kafka: events per second and state bytes.

For one badge and for eight badges covering every leaf kind (hours, count, distinct, streak;
rolling windows, a filter, all/any, a pathway, yearly and each-multiple repeats), with 10 and
1,000 activities of history per person: the incremental engine (Standing.record and
settle_standing per event, as the aggregator folds and settles) and, for comparison, the
whole-history engine it replaced (record_activity and settle on a Progress per event).
The state is the stored table value (written once per recipient per batch by the aggregator).
Rates are events per CPU second of this process (time.process_time): the machine is shared,
and wall time there measures the neighbours.

    PYTHONPATH=. .venv/bin/python bench/engine.py [--events 5000]
"""

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from cairn.domain.criteria import Progress, Standing, record_activity, settle, settle_standing
from schemas.activity import VolunteerShiftLogged
from schemas.badge_class import BadgeClass

T0 = datetime(2020, 1, 6, 9, tzinfo=UTC)


def badge(badge_id: str, criteria: dict, repeat: str | None = None) -> BadgeClass:
    return BadgeClass(
        id=badge_id,
        org_id="bench",
        version=1,
        name=badge_id,
        description="d",
        criteria_narrative="n",
        criteria=criteria,
        repeat=repeat,
    )


ONE = [badge("ten", {"kind": "total_hours", "at_least": 10})]
EIGHT = [
    ONE[0],
    badge("busy-month", {"kind": "total_hours", "at_least": 40, "within_days": 30}),
    badge("lead", {"kind": "count", "at_least": 5, "filter": {"role": "lead"}}),
    badge(
        "around",
        {
            "kind": "any",
            "of": [{"kind": "distinct", "field": "site", "at_least": 3}, {"kind": "count", "at_least": 200}],
        },
    ),
    badge("regular", {"kind": "distinct", "field": "day", "at_least": 20, "within_days": 60}),
    badge(
        "steady",
        {"kind": "all", "of": [{"kind": "holds_badge", "badge": "ten"}, {"kind": "streak", "weeks": 8}]},
    ),
    badge("yearly", {"kind": "count", "at_least": 100}, repeat="calendar_year"),
    badge("every-fifty", {"kind": "total_hours", "at_least": 50}, repeat="each_multiple"),
]


def shift(recipient: int, day: int) -> VolunteerShiftLogged:
    return VolunteerShiftLogged(
        recipient_key=f"{recipient:064x}",
        started_at=T0 + timedelta(days=day),
        hours=1.5,
        site=f"site-{day % 3}",
        role="lead" if day % 7 == 0 else None,
    )


def incremental(classes: list[BadgeClass], history: int, events: int, recipients: int) -> tuple[float, int]:
    """(events per second, stored bytes per recipient) for the incremental engine."""
    standings = {}
    for r in range(recipients):
        standing = Standing()
        for day in range(history):
            standing.record(f"{r}-{day}", shift(r, day))
        standings[r] = settle_standing(standing, classes, f"{r:064x}").progress
    todo = [(n % recipients, history + n // recipients) for n in range(events)]
    shifts = [shift(r, day) for r, day in todo]
    started = time.process_time()
    for (r, day), data in zip(todo, shifts, strict=True):
        standing = standings[r]
        if standing.record(f"{r}-{day}", data):
            standings[r] = settle_standing(standing, classes, data.recipient_key).progress
    rate = events / (time.process_time() - started)
    state = sum(len(s.stored()) for s in standings.values()) / recipients
    return rate, round(state)


def whole_history(classes: list[BadgeClass], history: int, events: int, recipients: int) -> tuple[float, int]:
    """The same for the engine before issue 14: every event re-reads the recipient's history."""
    progresses = {}
    for r in range(recipients):
        progress = Progress()
        for day in range(history):
            progress = record_activity(progress, f"{r}-{day}", shift(r, day)) or progress
        progresses[r] = settle(progress, classes, f"{r:064x}").progress
    todo = [(n % recipients, history + n // recipients) for n in range(events)]
    shifts = [shift(r, day) for r, day in todo]
    started = time.process_time()
    for (r, day), data in zip(todo, shifts, strict=True):
        updated = record_activity(progresses[r], f"{r}-{day}", data)
        if updated is not None:
            progresses[r] = settle(updated, classes, data.recipient_key).progress
    rate = events / (time.process_time() - started)
    state = sum(len(p.stored()) for p in progresses.values()) / recipients
    return rate, round(state)


def lines(events: int, compare: bool = True) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for classes in (ONE, EIGHT):
        for history in (10, 1000):
            recipients = 200 if history == 10 else 20
            rate, state = incremental(classes, history, events, recipients)
            figures = {"badges": len(classes), "history": history}
            out.append({"pipeline": "pure-engine", **figures, "per_second": round(rate)})
            out.append({"state_bytes_per_recipient": state, "engine": "incremental", **figures})
            if compare:
                few = max(50, events // (10 if history == 10 else 100))
                rate, state = whole_history(classes, history, few, recipients)
                out.append({"pipeline": "pure-engine-whole-history", **figures, "per_second": round(rate)})
                out.append({"state_bytes_per_recipient": state, "engine": "whole-history", **figures})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--no-compare", action="store_true", help="skip the whole-history engine")
    args = parser.parse_args()
    for line in lines(args.events, compare=not args.no_compare):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
