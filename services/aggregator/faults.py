"""Test hooks: the aggregator's named fault and crash points (cairn.crash_points), installed at
wiring time only for the points a run names, as a subclass of the flow, so a production worker
runs the plain class with no check on its hot path.

- aggregator.award_sent: SIGKILL once a settlement's awards are on Kafka, before the progress
  that records them is written.
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
from services.aggregator.folding import Folded, Folding

AWARD_SENT = "aggregator.award_sent"
SLOW_STORE = "aggregator.slow_store"
DROP_BATCH = "aggregator.drop_batch"
STOP_FETCHING = "aggregator.stop_fetching"


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

    async def write(self, key: bytes, outcome: Settlement, org_id: str, recipient_key: str) -> None:
        if fault_point(SLOW_STORE):
            await asyncio.sleep(3)
        await super().write(key, outcome, org_id, recipient_key)

    async def announce(self, outcome: Settlement, recipient_key: str) -> None:
        await super().announce(outcome, recipient_key)
        if outcome.awards:
            crash_point(AWARD_SENT)

    async def announce_all(self, outcomes: list[tuple[Settlement, Folded]]) -> None:
        await super().announce_all(outcomes)
        if any(outcome.awards for outcome, _ in outcomes):
            crash_point(AWARD_SENT)


def folding(pause_activity: Callable[[], None], *args: Any, **kwargs: Any) -> Folding:
    """The flow, with its fault points only if this run names one of them."""
    if any(enabled(point) for point in (AWARD_SENT, SLOW_STORE, DROP_BATCH, STOP_FETCHING)):
        return FaultyFolding(*args, pause_activity=pause_activity, **kwargs)
    return Folding(*args, **kwargs)
