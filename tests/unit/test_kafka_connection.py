"""The options every aiokafka client gets (cairn.adapters.kafka.connection), per security
protocol and SASL mechanism, the same for Faust, and no client made without them."""

import ast
import ssl
from pathlib import Path

import faust
import pytest
from pydantic import ValidationError

from cairn.adapters.kafka.connection import bootstrap_servers, client_options, described
from cairn.settings import REPO_ROOT, Settings
from services.aggregator.app import broker_options

CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}
CHECKED_TREES = ["cairn", "services"]  # devtools' local broker and tests' helpers are plaintext


def test_a_comma_separated_bootstrap_is_a_list_of_brokers():
    assert bootstrap_servers("k1:9092, k2:9092,,k3:9093 ") == ["k1:9092", "k2:9092", "k3:9093"]
    assert client_options("127.0.0.1:9092") == {"bootstrap_servers": ["127.0.0.1:9092"]}
    with pytest.raises(ValueError):
        bootstrap_servers(" , ")


def test_plaintext_by_default():
    options = client_options(Settings(kafka_bootstrap="a:1,b:2"))
    assert options == {"bootstrap_servers": ["a:1", "b:2"], "security_protocol": "PLAINTEXT"}


def test_ssl_verifies_against_the_configured_ca(tmp_path: Path):
    cafile = tmp_path / "ca.pem"
    cafile.write_text("not a certificate\n")
    with pytest.raises(ssl.SSLError):
        client_options(Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=cafile))
    options = client_options(Settings(kafka_security_protocol="SSL"))
    context = options["ssl_context"]
    assert options["security_protocol"] == "SSL"
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "sasl_mechanism" not in options


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_passes_mechanism_and_credentials(protocol: str, mechanism: str):
    settings = Settings(
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="cairn",
        kafka_sasl_password="s3cret",
    )
    options = client_options(settings)
    assert options["security_protocol"] == protocol
    assert options["sasl_mechanism"] == mechanism
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("cairn", "s3cret")
    assert ("ssl_context" in options) == (protocol == "SASL_SSL")
    assert "s3cret" not in repr(settings) and "s3cret" not in described(settings)


def test_sasl_without_credentials_is_refused_and_unknown_values_too():
    with pytest.raises(ValueError, match="CAIRN_KAFKA_SASL_USERNAME"):
        client_options(Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="cairn"))
    with pytest.raises(ValidationError):
        Settings(kafka_security_protocol="TLS")
    with pytest.raises(ValidationError):
        Settings(kafka_sasl_mechanism="SCRAM-SHA-1")


def test_faust_gets_the_same_brokers_and_credentials():
    plain = broker_options(Settings(kafka_bootstrap="a:1,b:2"))
    assert plain == {"broker": ["kafka://a:1", "kafka://b:2"], "broker_credentials": None}
    tls = broker_options(Settings(kafka_security_protocol="SSL"))["broker_credentials"]
    assert isinstance(tls, faust.SSLCredentials) and isinstance(tls.context, ssl.SSLContext)
    sasl = broker_options(
        Settings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="cairn",
            kafka_sasl_password="s3cret",
        )
    )["broker_credentials"]
    assert isinstance(sasl, faust.SASLCredentials)
    assert (sasl.username, sasl.password, sasl.mechanism.value) == ("cairn", "s3cret", "SCRAM-SHA-512")
    assert sasl.protocol.value == "SASL_SSL" and sasl.ssl_context is not None


def _client_calls_without_options(path: Path) -> list[int]:
    """Lines where an aiokafka client is constructed without `**client_options(...)`."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in CLIENTS:
            continue
        spread = [k.value for k in node.keywords if k.arg is None]
        through = any(
            isinstance(v, ast.Call) and getattr(v.func, "id", None) == "client_options" for v in spread
        )
        given_servers = any(k.arg == "bootstrap_servers" for k in node.keywords)
        if not through or given_servers:
            bad.append(node.lineno)
    return bad


def test_every_aiokafka_client_is_made_with_the_connection_options():
    found, bad = 0, []
    for tree in CHECKED_TREES:
        for path in sorted((REPO_ROOT / tree).rglob("*.py")):
            text = path.read_text()
            found += sum(text.count(f"{client}(") for client in CLIENTS)
            bad += [f"{path.relative_to(REPO_ROOT)}:{line}" for line in _client_calls_without_options(path)]
    assert found >= 6, "the check no longer sees the clients"
    assert not bad, f"aiokafka clients made without client_options(): {bad}"


def test_the_check_catches_a_bare_client(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("from aiokafka import AIOKafkaProducer\np = AIOKafkaProducer(bootstrap_servers='x')\n")
    assert _client_calls_without_options(module) == [2]
