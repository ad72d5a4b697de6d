"""Group commit for POST /v1/events: the events of requests in flight at the same moment are
accepted together, so a busy gateway pays one recipient upsert (a write transaction: an fsync on
SQLite), one wait for Kafka's acks and one history write per batch instead of per request.

The promise of a single request is kept for each request in a batch: its caller returns only
after its recipients are committed and every record of the batch is acknowledged (acks=all);
if any step of the batch fails, every request in it gets that error, so no request is answered
202 for an event that was not sent. Nothing waits to fill a batch: a request arriving while no
batch runs starts one at once; those arriving meanwhile form the next."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from cairn.domain.identity import recipient_key
from cairn.domain.records import Org
from cairn.domain.volunteers import activity_entry
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from cairn.usecases.intake import activity_record
from schemas.activity import ActivityIn, OrgActivity, person_of

MAX_BATCH_EVENTS = 1000  # bounds one transaction and one produce request; a bigger POST goes alone


@dataclass
class _Waiting:
    org: Org
    events: Sequence[ActivityIn]
    done: asyncio.Future[list[str]]


@dataclass
class _OrgPart:
    """One organisation's share of a batch: its people (merged over the requests) and records."""

    org: Org
    people: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    records: list[OrgActivity] = field(default_factory=list)


class IntakeBatcher:
    """Accepts events as intake.accept_events does, batching the calls that overlap in time.
    One per process (the gateway keeps it on app.state); it needs a running event loop."""

    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        clock: Clock = SYSTEM_CLOCK,
        max_events: int = MAX_BATCH_EVENTS,
    ) -> None:
        self.store, self.publisher, self.clock = store, publisher, clock
        self.max_events = max_events
        self._queue: list[_Waiting] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0  # how many batches ran (tests and the bench read it)

    async def accept(self, org: Org, events: Sequence[ActivityIn]) -> list[str]:
        """The event ids, once their recipients are committed and Kafka has acknowledged every
        record of the batch they went in; raises the batch's error otherwise."""
        waiting = _Waiting(org, events, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # a caller that goes away (client disconnected) leaves the batch to finish for the others
        return await asyncio.shield(waiting.done)

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # requests already runnable in this loop turn join the first batch
            while self._queue:
                batch = self._take()
                try:
                    accepted = await self._accept_batch(batch)
                except BaseException as error:  # every request of the batch fails with it
                    _fail(batch, error)
                    if not isinstance(error, Exception):
                        raise
                else:
                    for waiting, ids in zip(batch, accepted, strict=True):
                        if not waiting.done.done():
                            waiting.done.set_result(ids)
        finally:  # cancelled (the gateway stopping): no request is left waiting for ever
            queued, self._queue = self._queue, []
            _fail(queued, asyncio.CancelledError())

    def _take(self) -> list[_Waiting]:
        """The oldest requests, up to max_events events (at least one request)."""
        taken, events = 0, 0
        for waiting in self._queue:
            if taken and events + len(waiting.events) > self.max_events:
                break
            taken, events = taken + 1, events + len(waiting.events)
        batch, self._queue = self._queue[:taken], self._queue[taken:]
        return batch

    async def _accept_batch(self, batch: Sequence[_Waiting]) -> list[list[str]]:
        """As accept_events, for many requests: upserts per organisation (one transaction each),
        one publish_all of every record in arrival order, then the history per organisation."""
        parts: dict[str, _OrgPart] = {}
        records: list[OrgActivity] = []
        for waiting in batch:
            part = parts.setdefault(waiting.org.id, _OrgPart(waiting.org))
            secret = await self.store.org_secret(waiting.org.id)  # cached by the store
            for event in waiting.events:
                person = person_of(event)
                key = recipient_key(secret, person.email)
                _, known_name = part.people.get(key, (person.email, None))
                part.people[key] = (person.email, person.name or known_name)  # a name given wins
                if person.language:
                    part.languages[key] = person.language
                record = activity_record(waiting.org, key, event)
                part.records.append(record)
                records.append(record)
        for part in parts.values():
            await self.store.upsert_recipients(part.org.id, part.people)
            if part.languages:  # in the store with the contact details: the Kafka record has none
                await self.store.set_recipient_languages(part.org.id, part.languages)
        await self.publisher.publish_all(records)
        accepted_at = self.clock.now()
        for part in parts.values():
            history = [activity_entry(r.event_id, r.activity.root, accepted_at) for r in part.records]
            await self.store.record_activities(part.org.id, history)
        self.batches += 1
        return [[e.id for e in waiting.events] for waiting in batch]


def _fail(batch: Sequence[_Waiting], error: BaseException) -> None:
    for waiting in batch:
        if waiting.done.done():
            continue
        if isinstance(error, Exception):
            waiting.done.set_exception(error)
        else:  # cancelled: so are the requests waiting on it
            waiting.done.cancel()
