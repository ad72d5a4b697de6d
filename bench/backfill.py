"""How long a new badge class takes to reach every recipient's held progress (backfill).

Follows the aggregator's own path (services/aggregator/folding.py): when the catalog loads a
new class, request_reevaluation scans the progress table for recipients not checked under it
(their stored "checked" versions), and the re-evaluation agent reads each one's value, settles
it against the organisation's classes, sends any award, writes the value back and publishes
the progress report. Here that work runs in-process over a table of RECIPIENTS values with
ten shifts each (no Kafka round trip per recipient: the re-evaluation topic's records are
tiny and batched by the producer), timed from the scan to the last value written.

    PYTHONPATH=. .venv/bin/python bench/backfill.py [--recipients 100000] [--compare 5000]

Prints {"backfill_recipients": N, "seconds": N} for the incremental engine and, with
--compare, the same for the whole-history engine (Progress values) over fewer recipients.
"""

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from bench.engine import badge
from cairn.domain.criteria import (
    Progress,
    Standing,
    progress_report,
    record_activity,
    settle,
    settle_standing,
)
from cairn.domain.criteria.standing import checked_versions
from schemas.activity import VolunteerShiftLogged

T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
HELD = [badge("ten", {"kind": "total_hours", "at_least": 10})]
NEW = badge("five-shifts", {"kind": "count", "at_least": 5})


def shifts(variant: int) -> list[tuple[str, VolunteerShiftLogged]]:
    return [
        (
            f"s{variant}-{n}",
            VolunteerShiftLogged(
                recipient_key="b" * 64,
                started_at=T0 + timedelta(days=3 * n + variant),
                hours=1 + variant % 3,
                site=f"site-{n % 2}",
            ),
        )
        for n in range(10)
    ]


def table_of(recipients: int, whole_history: bool) -> dict[bytes, bytes]:
    """RECIPIENTS values (ten variants of ten shifts), settled under the classes held so far."""
    variants = []
    for variant in range(10):
        if whole_history:
            progress = Progress()
            for event_id, data in shifts(variant):
                progress = record_activity(progress, event_id, data) or progress
            variants.append(settle(progress, HELD, "b" * 64).progress.stored())
        else:
            standing = Standing()
            for event_id, data in shifts(variant):
                standing.record(event_id, data)
            variants.append(settle_standing(standing, HELD, "b" * 64).progress.stored())
    return {f"org:{n:064x}".encode(): variants[n % 10] for n in range(recipients)}


def backfill(table: dict[bytes, bytes], whole_history: bool) -> tuple[float, int]:
    """(seconds, awards) to apply NEW to every value of the table, as the aggregator does."""
    classes = [*HELD, NEW]
    awards = 0
    started = time.perf_counter()
    due = [key for key, raw in table.items() if checked_versions(raw).get(NEW.id) != NEW.version]
    for key in due:
        recipient_key = key.decode().partition(":")[2]
        if whole_history:
            outcome = settle(Progress.model_validate_json(table[key]), classes, recipient_key)
        else:
            outcome = settle_standing(Standing.load(table[key]), classes, recipient_key)
        awards += len(outcome.awards)
        table[key] = outcome.progress.stored()
        progress_report(outcome.progress, classes)  # what the progress update carries
    return time.perf_counter() - started, awards


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=0, help="recipients for the whole-history engine")
    args = parser.parse_args()
    seconds, awards = backfill(table_of(args.recipients, False), False)
    print(
        json.dumps({"backfill_recipients": args.recipients, "seconds": round(seconds, 1), "awards": awards})
    )
    if args.compare:
        seconds, awards = backfill(table_of(args.compare, True), True)
        line = {"backfill_recipients": args.compare, "seconds": round(seconds, 1), "engine": "whole-history"}
        print(json.dumps(line))


if __name__ == "__main__":
    main()
