"""What the end-to-end tests do as an organisation and a volunteer: post shifts, wait for mail."""

import asyncio
import re
import time

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from cairn.adapters.kafka import topics
from devtools.smtp_sink import read_mailbox
from tests.conftest import System


def organisation(system: System, name: str, slug: str, *options: str) -> httpx.Client:
    """Creates the organisation; returns an API client holding its key."""
    created = system.cairn("org", "create", name, "--slug", slug, *options).stdout
    api_key = re.search(r"api key (\S+)", created).group(1)
    return httpx.Client(
        base_url=system.public_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )


def shift(event_id: str, day: int, hours: float, email: str = "sam@example.org") -> dict:
    return {
        "id": event_id,
        "type": "volunteer_shift",
        "volunteer": {"email": email, "name": "Sam Okafor"},
        "started_at": f"2026-11-{day:02d}T09:00:00Z",
        "hours": hours,
        "program": "pantry",
    }


def wait_until(fetch, ready, what: str, timeout: float = 30, every: float = 0.2):
    """Fetches until `ready(value)`; returns that value, or fails saying what never happened
    and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}; last seen: {value!r}"[:2000])
        time.sleep(every)


def wait_for_progress(client: httpx.Client, email: str, ready, timeout: float = 30) -> list:
    response = wait_until(
        lambda: client.get(f"/v1/recipients/{email}/progress"),
        lambda r: r.status_code == 200 and ready(r.json()["badges"]),
        f"progress for {email} not as expected",
        timeout,
    )
    return response.json()["badges"]


def wait_for_mail(mail_dir, count: int, timeout: float = 60) -> list:
    return wait_until(
        lambda: read_mailbox(mail_dir),
        lambda mails: len(mails) >= count,
        f"expected {count} emails",
        timeout,
        0.1,
    )


def claim_link(mail) -> str:
    return re.search(r"(http://\S+/claim/\S+)", mail.get_body(("plain",)).get_content()).group(1)


# Each stage of the pipeline in order: the consumer group and the topic it works through.
PIPELINE = [
    ("cairn-aggregator", topics.ACTIVITY),
    ("cairn-aggregator", topics.REEVALUATE),
    ("cairn-signer", topics.AWARDS),
    ("cairn-notifier", topics.CREDENTIALS),
    ("cairn-notifier-resends", topics.CLAIM_EMAIL_RESENDS),
]


async def _behind(bootstrap: str, group: str, topic: str) -> int:
    """Records of `topic` the group has not committed yet (read without joining the group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
        behind = 0
        for tp in partitions:
            behind += ends[tp] - (await consumer.committed(tp) or 0)
        return behind
    finally:
        await consumer.stop()


def wait_until_consumed(system: System, timeout: float = 120) -> None:
    """Positive proof that nothing is still in flight: every stage has committed everything on
    its topic, all at once, so any duplicate a redelivery would make has been made by now."""

    async def lags() -> dict[str, int]:
        bootstrap = system.env["CAIRN_KAFKA_BOOTSTRAP"]
        return {f"{g} {t}": await _behind(bootstrap, g, t) for g, t in PIPELINE}

    wait_until(
        lambda: asyncio.run(lags()),
        lambda behind: not any(behind.values()),
        "records still unprocessed",
        timeout,
        every=1,
    )
