"""Reading what topics hold now, outside any consumer group (cairn trace's reader), on a real broker."""

import asyncio

import pytest

from cairn.adapters.kafka.history import read_topics
from devtools.topic_reader import write_raw

pytestmark = pytest.mark.integration


def test_records_are_read_from_the_start_filtered_and_missing_topics_skipped(kafka):
    write_raw(kafka, "history-a", b"sam", b'{"id": "e1"}')
    write_raw(kafka, "history-a", b"kit", b'{"id": "e2"}')
    write_raw(kafka, "history-b", b"sam", b"not json")
    held = asyncio.run(
        read_topics(kafka, ["history-a", "history-b", "no-such-topic"], lambda h: h.key == "sam")
    )
    assert sorted((h.topic, h.value if isinstance(h.value, str) else h.value["id"]) for h in held) == [
        ("history-a", "e1"),
        ("history-b", "not json"),
    ]
    assert asyncio.run(read_topics(kafka, ["no-such-topic"], lambda h: True)) == []
