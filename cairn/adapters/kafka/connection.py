"""How every aiokafka client reaches the brokers: the bootstrap list, TLS and SASL from the
settings, in one place so that no client can be made that would only work on a plaintext broker."""

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from cairn.settings import Settings

# what a function reaching Kafka is given: the settings (a real cluster) or a bare bootstrap string
Brokers = Settings | str

SSL_PROTOCOLS = {"SSL", "SASL_SSL"}
SASL_PROTOCOLS = {"SASL_PLAINTEXT", "SASL_SSL"}


def bootstrap_servers(bootstrap: str) -> list[str]:
    """`host:port[,host:port...]` as a list (blanks around commas and empty items ignored)."""
    servers = [server.strip() for server in bootstrap.split(",") if server.strip()]
    if not servers:
        raise ValueError("CAIRN_KAFKA_BOOTSTRAP names no broker")
    return servers


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context (the CA file if given, else the system's) when the protocol uses TLS."""
    if settings.kafka_security_protocol not in SSL_PROTOCOLS:
        return None
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    return create_ssl_context(cafile=cafile)


def client_options(kafka: Brokers) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer/Consumer/AdminClient. A bare bootstrap string
    (tests, the local dev broker) means plaintext; a Settings carries the cluster's security."""
    if isinstance(kafka, str):
        return {"bootstrap_servers": bootstrap_servers(kafka)}
    protocol = kafka.kafka_security_protocol
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(kafka.kafka_bootstrap),
        "security_protocol": protocol,
    }
    context = ssl_context(kafka)
    if context is not None:
        options["ssl_context"] = context
    if protocol in SASL_PROTOCOLS:
        if not kafka.kafka_sasl_username or kafka.kafka_sasl_password is None:
            raise ValueError(f"{protocol} needs CAIRN_KAFKA_SASL_USERNAME and CAIRN_KAFKA_SASL_PASSWORD")
        options["sasl_mechanism"] = kafka.kafka_sasl_mechanism
        options["sasl_plain_username"] = kafka.kafka_sasl_username
        options["sasl_plain_password"] = kafka.kafka_sasl_password.get_secret_value()
    return options


def described(kafka: Brokers) -> str:
    """The brokers for messages and logs (never the credentials)."""
    bootstrap = kafka if isinstance(kafka, str) else kafka.kafka_bootstrap
    return ",".join(bootstrap_servers(bootstrap))
