"""The local broker's set-up values (pure parts only; the broker itself runs in every integration test)."""

from devtools.kafka_broker import _cluster_id


def test_cluster_ids_never_look_like_options():
    """The storage tool parses a leading '-' as an option; this once failed a test run."""
    ids = {_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000 and not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)
