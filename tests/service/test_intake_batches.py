"""Group commit of intake on fakes: requests in flight together go in one batch, each gets its own
ids, a failed batch fails every request in it (and records nothing as accepted), and the next
batch starts clean. The same against real Kafka and databases: tests/integration/test_intake_batches.py."""

import asyncio

import pytest

from cairn.domain.identity import recipient_key
from cairn.usecases.intake_batches import IntakeBatcher
from cairn.usecases.provisioning import create_organisation
from schemas.admin import OrgCreateIn
from tests.service.fakes import FakePublisher
from tests.service.flow import activity, shift


class FailingPublisher(FakePublisher):
    """Refuses the next `failures` publish_all calls, as a broker that is down would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def publish_all(self, records) -> None:
        await asyncio.sleep(0)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        await super().publish_all(records)


async def test_requests_in_flight_together_go_in_one_batch(store, publisher, riverside, clock):
    intake = IntakeBatcher(store, publisher, clock)
    answers = await asyncio.gather(
        *(intake.accept(riverside.org, [shift(f"s{n}", f"v{n}@example.org", n, 1)]) for n in range(10))
    )
    assert answers == [[f"s{n}"] for n in range(10)]
    assert intake.batches == 1
    assert [r.event_id for r in activity(publisher)] == [f"s{n}" for n in range(10)], "arrival order"
    assert len(await store.recipients(riverside.org.id)) == 10
    secret = await store.org_secret(riverside.org.id)
    assert [
        e.event_id
        for e in await store.activity_history(riverside.org.id, recipient_key(secret, "v3@example.org"))
    ] == ["s3"]


async def test_one_request_alone_is_accepted_at_once(store, publisher, riverside, clock):
    intake = IntakeBatcher(store, publisher, clock)
    assert await intake.accept(riverside.org, [shift("s1", "sam@example.org", 0, 2)]) == ["s1"]
    assert await intake.accept(riverside.org, [shift("s2", "sam@example.org", 1, 2)]) == ["s2"]
    assert intake.batches == 2


async def test_a_failed_batch_fails_every_request_in_it_and_records_nothing(store, riverside, clock):
    publisher = FailingPublisher(failures=1)
    intake = IntakeBatcher(store, publisher, clock)
    answers = await asyncio.gather(
        *(intake.accept(riverside.org, [shift(f"s{n}", "sam@example.org", n, 1)]) for n in range(5)),
        return_exceptions=True,
    )
    assert all(isinstance(a, ConnectionError) for a in answers), answers
    assert activity(publisher) == []
    secret = await store.org_secret(riverside.org.id)
    assert await store.activity_history(riverside.org.id, recipient_key(secret, "sam@example.org")) == []

    assert await intake.accept(riverside.org, [shift("s9", "sam@example.org", 9, 1)]) == ["s9"]
    assert [r.event_id for r in activity(publisher)] == ["s9"]


async def test_batches_are_bounded_by_events_and_a_big_request_goes_alone(store, publisher, riverside, clock):
    intake = IntakeBatcher(store, publisher, clock, max_events=4)
    sizes = [1, 2, 1, 6, 1]
    requests = [
        [shift(f"r{i}e{n}", f"v{n}@example.org", n, 1) for n in range(size)] for i, size in enumerate(sizes)
    ]
    answers = await asyncio.gather(*(intake.accept(riverside.org, events) for events in requests))
    assert answers == [[e.id for e in events] for events in requests]
    assert intake.batches == 3, "[1, 2, 1], [6] alone, [1]"


async def test_tenants_in_one_batch_stay_apart(store, publisher, riverside, clock):
    other, _ = await create_organisation(store, OrgCreateIn(name="Hillside", slug="hillside"))
    intake = IntakeBatcher(store, publisher, clock)
    await asyncio.gather(
        intake.accept(riverside.org, [shift("a1", "sam@example.org", 0, 1)]),
        intake.accept(other, [shift("b1", "sam@example.org", 0, 1)]),
    )
    assert intake.batches == 1
    keys = {r.org_id: r.activity.root.recipient_key for r in activity(publisher)}
    for org in (riverside.org, other):
        secret = await store.org_secret(org.id)
        assert keys[org.id] == recipient_key(secret, "sam@example.org")
        assert [r.recipient_key for r in await store.recipients(org.id)] == [keys[org.id]]
    assert keys[riverside.org.id] != keys[other.id], "one person, two unlinkable keys"


async def test_a_name_given_in_any_request_of_the_batch_is_kept(store, publisher, riverside, clock):
    intake = IntakeBatcher(store, publisher, clock)
    await asyncio.gather(
        intake.accept(riverside.org, [shift("s1", "sam@example.org", 0, 1, name="Sam Jones")]),
        intake.accept(riverside.org, [shift("s2", "sam@example.org", 1, 1, name=None)]),
    )
    [person] = await store.recipients(riverside.org.id)
    assert person.name == "Sam Jones"


async def test_a_caller_that_goes_away_does_not_stop_the_others(store, publisher, riverside, clock):
    intake = IntakeBatcher(store, publisher, clock)
    leaving = asyncio.create_task(intake.accept(riverside.org, [shift("s1", "a@example.org", 0, 1)]))
    staying = asyncio.create_task(intake.accept(riverside.org, [shift("s2", "b@example.org", 0, 1)]))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == ["s2"]
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert [r.event_id for r in activity(publisher)] == ["s1", "s2"], "its event was sent with the batch"
