"""Configuration from CAIRN_* environment variables; the one place defaults live."""

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import IPvAnyNetwork, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cairn.domain.criteria import KEEP_BY_ID
from cairn.domain.webhooks import RETRY_DELAYS

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAIRN_")

    var_dir: Path = REPO_ROOT / "var"
    kafka_bootstrap: str = "127.0.0.1:9092"  # host:port, or a comma-separated list of them
    # a managed cluster (cairn.adapters.kafka.connection): TLS with a CA file, SASL PLAIN or SCRAM
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_ssl_cafile: Path | None = None  # trust this CA (unset: the system's)
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    topic_partitions: int = 6
    topic_replication_factor: int = 1  # for the topics `cairn setup` creates (3 on a real cluster)
    topic_min_insync_replicas: int = 1  # their min.insync.replicas (2 with 3 replicas)
    database_url: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = None  # trust this CA for STARTTLS (e.g. a private relay)
    smtp_max_attempts: int = 6
    smtp_timeout_seconds: float = 30
    smtp_connections: int = 4  # the notifier's connections to the relay, a message at a time on each
    # rounds of smtp_max_attempts the notifier gives one email while the relay is in trouble, each
    # round retried by the consumer (capped backoff): at least ~45 minutes before it is "failed"
    smtp_give_up_after_rounds: int = 120
    mail_from: str = "Cairn <badges@cairn.invalid>"
    mail_dir: Path | None = None
    public_url: str = "http://127.0.0.1:8000"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    aggregator_web_port: int = 6066
    aggregator_name: str = "aggregator"  # this worker's name: its state folder under var_dir
    aggregator_workers: int = 1
    # `cairn dev` runs this many signers (signer, signer-2, ...) and notifiers (notifier, notifier-2,
    # ...); they share their topics' partitions through their consumer groups
    signer_workers: int = 1
    notifier_workers: int = 1
    instance_name: str = ""  # a signer's or notifier's own name among several (signer-2): its logs, port
    aggregator_stall_seconds: float = 30  # an assigned partition unprocessed this long: restart the worker
    consumer_max_attempts: int = 3  # a record failing (not transiently) this often goes to its topic's .dlq
    consumer_batch_records: int = 200  # the signer and notifier: records fetched and committed together
    consumer_concurrency: int = 16  # the signer: this many records with different keys handled at once
    progress_keep_ids: int = KEEP_BY_ID  # activities per recipient kept by event id before compacting
    master_key_file: Path | None = None
    claim_token_days: int = 30
    api_requests_per_minute: int = 1200  # per API key, after a burst of api_burst
    api_burst: int = 300
    max_request_bytes: int = 5 * 1024 * 1024  # bodies above this get 413
    admin_token: SecretStr | None = None  # platform admin API (/admin/v1/...); unset = disabled
    clock_skew_minutes: float = 10  # activity may end this far past the gateway's clock
    activity_floor: date = date(2000, 1, 1)  # activity before this day is refused as implausible
    verify_allow_hosts: list[str] = []  # hosts POST /v1/verify may fetch DID documents and status lists from
    trusted_proxies: list[IPvAnyNetwork] = []  # JSON list of IPs/CIDRs whose X-Forwarded-For is believed
    link_misses_per_minute: float = 30  # wrong claim/sign-in links or dashboard keys per client address,
    link_misses_burst: int = 20  # after a burst of this many
    # workshop check-in links work from a session's start minus this to its end plus that (issue 12)
    check_in_opens_minutes: float = 30
    check_in_closes_minutes: float = 120
    check_ins_per_minute: float = 60  # per client address (a room on one Wi-Fi shares one), after a burst
    check_ins_burst: int = 40
    # outbound webhooks: production sends only to https:// public addresses; a dev or test
    # installation may allow loopback (http too) and private networks, explicitly
    webhook_allow_loopback: bool = False
    webhook_allow_private_networks: bool = False
    webhook_timeout_seconds: float = 10  # per attempt: connect, send, answer
    webhook_retry_delays: list[float] = list(RETRY_DELAYS)  # seconds before attempt 2, 3, ...
    # Each worker's Prometheus endpoint (GET /metrics); 0 = off. The gateway's is its /metrics.
    metrics_host: str = "127.0.0.1"
    # the first worker's; a further worker of a service (signer-2) uses its port + 100 x (N - 1)
    metrics_port_aggregator: int = 9101
    metrics_port_signer: int = 9102
    metrics_port_notifier: int = 9103
    metrics_port_projector: int = 9104
    metrics_port_webhooks: int = 9105
    log_format: str = "json"  # json: one object per line; text: the old human-readable lines

    def metrics_port_of(self, service: str, instance: str) -> int:
        """The metrics port of one worker (`instance`: signer, signer-2, ...): its service's
        port, plus 100 for each worker before it, so signer-2 (9202) never takes the port of
        another service (9103) nor of another worker; 0 stays off."""
        base: int = getattr(self, f"metrics_port_{service}")
        n = instance.rpartition("-")[2]
        return base + 100 * (int(n) - 1) if base and n.isdigit() else base

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.var_dir / 'cairn.db'}"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.var_dir / "master.key"

    @property
    def resolved_mail_dir(self) -> Path:
        return self.mail_dir or self.var_dir / "mail"


@lru_cache
def get_settings() -> Settings:
    return Settings()
