"""Two workers of one consumer group on the real broker (two notifiers, two signers): when a
second one joins while the first is mid-batch, no record is handled by both at once.

The handler follows the notifier's contract (notify_earner): skip what is done, mark "sending",
send (slow, as an SMTP round trip), mark "sent". A record whose "sending" mark is seen by the
other worker is sent twice. Without the loop's rebalance listener, the first worker went on
through the rest of its fetched batch on partitions the group had given to the second, and the
two sent the same emails side by side."""

import asyncio
from collections import Counter

import pytest

from cairn.adapters.kafka import consume, publisher, topics
from cairn.adapters.kafka.rebalancing import sleep_unless_handed_over
from cairn.bootstrap import emails_side_by_side
from cairn.domain.failures import RetryPolicy
from cairn.settings import Settings
from schemas.awards import AwardQuestioned
from schemas.envelope import CloudEvent
from tests.integration.test_consume_loop import _record

pytestmark = pytest.mark.integration

TOPIC = topics.CREDENTIALS
PARTITIONS = 8
RECORDS = 240  # 16 side by side at 0.8 s each: work still waiting when the last worker joins
SEND_SECONDS = 0.8  # a slow relay, or a 4xx retried: the window this test is about


async def _produce(kafka: str, prefix: str) -> list[str]:
    await topics.ensure_topics(kafka, partitions=PARTITIONS)
    producer = publisher.producer(kafka)
    await producer.start()
    ids = [f"{prefix}-{n}" for n in range(RECORDS)]
    for n, award_id in enumerate(ids):  # spread evenly: every partition has records to move
        value = _record(award_id)
        await producer.send_and_wait(TOPIC, key=award_id.encode(), value=value, partition=n % PARTITIONS)
    await producer.stop()
    return ids


class Mailbox:
    """The store's notification rows and the SMTP server's count, shared by both workers."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.sent: Counter[str] = Counter()
        self.by_worker: Counter[str] = Counter()
        self.joined: dict[str, float] = {}

        self.first_send: dict[str, float] = {}
        self.refuse_until: dict[str, float] = {}  # the relay answers 4xx for these keys until then

    def worker(self, name: str):
        async def handle(event: CloudEvent[AwardQuestioned]) -> None:
            key = event.data.award_id
            if self.status.get(key) == "sent":
                return
            self.status[key] = "sending"
            clock = asyncio.get_running_loop().time
            while clock() < self.refuse_until.get(key, 0):
                await sleep_unless_handed_over(0.5)  # as the Mailer waits between SMTP attempts
            await asyncio.sleep(SEND_SECONDS)  # the SMTP round trip: another worker may start it too
            self.sent[key] += 1
            self.by_worker[name] += 1
            self.first_send.setdefault(name, clock())
            self.status[key] = "sent"

        return handle


async def _workers_joining(
    kafka: str, group: str, ids: list[str], joins: list[float], mailbox: Mailbox | None = None
) -> Mailbox:
    """A first worker, then one more at each of `joins` (seconds after it began handling): each
    join moves partitions away from workers that may be mid-send on them."""
    mailbox = mailbox or Mailbox()
    stopping = asyncio.Event()
    policy = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)

    def run(name: str) -> asyncio.Task[None]:
        loop = consume.consume_forever(
            kafka,
            group,
            TOPIC,
            AwardQuestioned,
            mailbox.worker(name),
            stopping,
            policy,
            **emails_side_by_side(Settings()),  # as the notifier: batches, side by side
        )
        return asyncio.create_task(loop)

    workers = [run("worker-1")]
    while not mailbox.status:
        await asyncio.sleep(0.05)
    clock = asyncio.get_running_loop().time
    started = clock()
    for n, at in enumerate(joins, start=2):
        await asyncio.sleep(max(0.0, started + at - clock()))
        workers.append(run(f"worker-{n}"))
        mailbox.joined[f"worker-{n}"] = clock()
    try:
        deadline = clock() + 90
        while not set(ids) <= set(mailbox.sent) and clock() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # anything handled twice would have been by now
    finally:
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*workers), 60)
    return mailbox


async def test_workers_joining_mid_send_never_send_what_another_is_sending(kafka):
    ids = await _produce(kafka, "join")
    mailbox = await _workers_joining(kafka, "notifiers", ids, joins=[0.3, 3.5, 7.0])
    assert set(ids) <= set(mailbox.sent), f"never sent: {sorted(set(ids) - set(mailbox.sent))}"
    twice = {key: n for key, n in mailbox.sent.items() if n > 1}
    assert not twice, f"sent more than once: {twice}"
    assert len(mailbox.by_worker) > 1, "the joining workers were given partitions and worked them"


async def test_a_record_waiting_to_retry_does_not_hold_the_group(kafka):
    """The relay refuses one email for 20 s: its worker, retrying, gives the partition up at its
    next wait when a second worker joins, instead of holding the whole group until then."""
    ids = await _produce(kafka, "retry")
    mailbox = Mailbox()
    mailbox.refuse_until = {"retry-0": asyncio.get_running_loop().time() + 20}
    mailbox = await _workers_joining(kafka, "notifiers-retrying", ids, joins=[0.5], mailbox=mailbox)
    assert set(ids) <= set(mailbox.sent) and max(mailbox.sent.values()) == 1, mailbox.sent
    waited = mailbox.first_send["worker-2"] - mailbox.joined["worker-2"]
    assert waited < 10, f"the second worker sent its first email {waited:.1f}s after joining"
