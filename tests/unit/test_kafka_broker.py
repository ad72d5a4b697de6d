"""The local broker's set-up values (pure parts only; the broker itself runs in every integration test)."""

from devtools.kafka_broker import _cluster_id


def test_cluster_ids_never_look_like_options():
    """The storage tool parses a leading '-' as an option; this once failed a test run."""
    ids = {_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000 and not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_cluster_node_config_has_its_own_id_ports_and_the_whole_voter_set(tmp_path):
    from devtools.kafka_broker import cluster_properties

    nodes = [(9100, 9101), (9200, 9201), (9300, 9301)]
    second = _props(cluster_properties(2, nodes, tmp_path / "data"))
    assert second["node.id"] == "2"
    assert second["listeners"] == "PLAINTEXT://127.0.0.1:9200,CONTROLLER://127.0.0.1:9201"
    assert second["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9200"
    assert second["controller.quorum.voters"] == "1@127.0.0.1:9101,2@127.0.0.1:9201,3@127.0.0.1:9301"
    assert "controller.quorum.bootstrap.servers" not in second  # static voters, not a standalone quorum
    assert second["log.dirs"] == str(tmp_path / "data")


def test_cluster_internal_topics_survive_losing_one_of_three_nodes(tmp_path):
    from devtools.kafka_broker import cluster_properties

    props = _props(cluster_properties(1, [(1, 2), (3, 4), (5, 6)], tmp_path))
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "default.replication.factor",
    ):
        assert props[key] == "3", key
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["min.insync.replicas"] == "2"


def test_a_one_node_cluster_keeps_single_replicas(tmp_path):
    from devtools.kafka_broker import cluster_properties

    props = _props(cluster_properties(1, [(1, 2)], tmp_path))
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"


def test_dev_with_three_brokers_points_every_service_at_the_cluster():
    from cairn.cli.dev import cluster_environment

    assert cluster_environment(3, "127.0.0.1:19092") == {
        "CAIRN_KAFKA_BOOTSTRAP": "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096",
        "CAIRN_TOPIC_REPLICATION_FACTOR": "3",
        "CAIRN_TOPIC_MIN_INSYNC_REPLICAS": "2",
    }
    assert cluster_environment(1, "127.0.0.1:9092")["CAIRN_TOPIC_REPLICATION_FACTOR"] == "1"
