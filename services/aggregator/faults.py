"""Test hooks: the aggregator's named fault and crash points (cairn.crash_points), installed at
wiring time only for the points a run names, as subclasses of the flow and the outbox, so a
production worker runs the plain classes with no check on its hot path.

- aggregator.award_sent: SIGKILL after an award is on Kafka, before the progress is written.
- aggregator.slow_store: once, wait 3 s between settling a recipient and storing it, so a badge
  class can arrive in that gap.
- aggregator.drop_batch: once, acknowledge a batch without processing it (as faust-streaming
  sometimes does).
- aggregator.stop_fetching: once, after a batch, stop fetching the activity partitions (as
  faust-streaming's stuck partitions do).
"""

import asyncio
from collections.abc import Callable
from typing import Any

import faust

from cairn.crash_points import crash_point, enabled, fault_point
from cairn.domain.criteria import Settlement
from schemas.awards import AwardGranted
from services.aggregator.folding import Folding
from services.aggregator.sending import Outbox

AWARD_SENT = "aggregator.award_sent"
SLOW_STORE = "aggregator.slow_store"
DROP_BATCH = "aggregator.drop_batch"
STOP_FETCHING = "aggregator.stop_fetching"


class CrashingOutbox(Outbox):
    async def grant(self, award: AwardGranted) -> None:
        await super().grant(award)
        crash_point(AWARD_SENT)


class FaultyFolding(Folding):
    def __init__(self, *args: Any, pause_activity: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pause_activity = pause_activity

    async def batch(self, events: list[faust.EventT]) -> None:
        if fault_point(DROP_BATCH):
            return
        await super().batch(events)
        if fault_point(STOP_FETCHING):
            self.pause_activity()

    async def store(self, key: bytes, outcome: Settlement, org_id: str, recipient_key: str) -> None:
        if fault_point(SLOW_STORE):
            await asyncio.sleep(3)
        await super().store(key, outcome, org_id, recipient_key)


def outbox(*topics: faust.TopicT) -> Outbox:
    return CrashingOutbox(*topics) if enabled(AWARD_SENT) else Outbox(*topics)


def folding(pause_activity: Callable[[], None], *args: Any, **kwargs: Any) -> Folding:
    """The flow, with its fault points only if this run names one of them."""
    if any(enabled(point) for point in (SLOW_STORE, DROP_BATCH, STOP_FETCHING)):
        return FaultyFolding(*args, pause_activity=pause_activity, **kwargs)
    return Folding(*args, **kwargs)
