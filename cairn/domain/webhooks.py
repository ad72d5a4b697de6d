"""Outbound webhooks, the pure part: event names, Standard Webhooks signatures, the retry
schedule and which endpoint URLs may be registered at all.

Signatures follow Standard Webhooks (standardwebhooks.com): headers webhook-id,
webhook-timestamp and webhook-signature = "v1," + base64(HMAC-SHA256(secret, "id.timestamp.body")),
so a receiver can use any Standard Webhooks library to check them.
"""

import base64
import hashlib
import hmac
import ipaddress
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

EVENTS = (
    "credential.issued",
    "credential.claimed",
    "credential.revoked",
    "credential.suspended",
    "award.questioned",
)
SECRET_PREFIX = "whsec_"
# Seconds to wait before each retry (attempt 2, 3, ...): about a day in all, as Svix and
# Standard Webhooks suggest (quick retries for a blip, hours apart for an outage).
RETRY_DELAYS: tuple[float, ...] = (5, 60, 600, 3600, 3 * 3600, 8 * 3600, 12 * 3600)
ANSWER_KEPT_CHARS = 500  # of the endpoint's answer body, kept in the delivery log
WEBHOOK_NAMESPACE = uuid.UUID("0d7f6d0e-3b8e-4f0b-9a55-6c2b1f1e9a07")


def message_id(event_type: str, subject: str) -> str:
    """The webhook-id of an event: the same for every endpoint, every retry and every replay of
    it, so a receiver can drop a message it has already handled."""
    return f"msg_{uuid.uuid5(WEBHOOK_NAMESPACE, f'{event_type}:{subject}').hex}"


def delivery_id(message: str, endpoint_id: str, generation: int = 0) -> str:
    """One delivery per (message, endpoint); a replay is the next generation."""
    return str(uuid.uuid5(WEBHOOK_NAMESPACE, f"{message}:{endpoint_id}:{generation}"))


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a "whsec_<base64>" secret."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: any of the space-separated v1 signatures matches."""
    expected = signature(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    given = headers["webhook-signature"].split()
    return any(hmac.compare_digest(expected.encode(), sig.encode()) for sig in given)


def retry_delay(attempt: int, delays: tuple[float, ...] = RETRY_DELAYS) -> float | None:
    """Seconds from failed attempt `attempt` (1-based) to the next; None: no more attempts."""
    return delays[attempt - 1] if attempt - 1 < len(delays) else None


def accepted(status: int) -> bool:
    """Standard Webhooks: any 2xx is success; everything else (3xx included) is retried."""
    return 200 <= status < 300


class EndpointRefused(ValueError):
    """The URL may not be a webhook endpoint here; the message says why."""


@dataclass(frozen=True)
class UrlPolicy:
    """Where deliveries may go. Production: https only, public addresses only. A dev or test
    installation may allow loopback (http too) and private networks explicitly."""

    allow_loopback: bool = False
    allow_private: bool = False

    def check_url(self, url: str) -> None:
        """At registration: scheme, host, and the address if the host is a literal one."""
        if any(c.isspace() or ord(c) < 32 or c in '<>"\\' for c in url):
            raise EndpointRefused("the endpoint URL has spaces, quotes or control characters")
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname or "", parts.port
        except ValueError as e:
            raise EndpointRefused(f"the endpoint URL does not parse: {e}") from None
        if parts.scheme not in {"https", "http"} or not host:
            raise EndpointRefused("the endpoint must be an https:// URL")
        if parts.username or parts.password:
            raise EndpointRefused("the endpoint URL may not carry a user name or password")
        loopback = host == "localhost" or _is_loopback_literal(host)
        if parts.scheme == "http" and not (loopback and self.allow_loopback):
            raise EndpointRefused("the endpoint must be an https:// URL")
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self.check_address(address)

    def check_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        """At delivery, for every address the host resolves to (so DNS cannot point a public
        name at an internal service)."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_loopback:
            if not self.allow_loopback:
                raise EndpointRefused(f"{address} is a loopback address")
            return
        if address.is_private or address.is_link_local or address.is_reserved or address.is_multicast:
            if not self.allow_private or address.is_multicast or address.is_unspecified:
                raise EndpointRefused(f"{address} is not a public address")


def _is_loopback_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    id: str
    org_id: str
    url: str
    events: list[str]
    include_email: bool
    description: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    """One POST and the endpoint's answer (None: no answer, `answer` then says why)."""

    attempt: int
    at: datetime
    status_code: int | None
    answer: str
    duration_ms: int


@dataclass(frozen=True)
class Delivery:
    id: str
    org_id: str
    endpoint_id: str
    message_id: str
    event_type: str
    payload: dict[str, Any]
    generation: int
    replay_of: str | None
    status: str  # pending | retrying | delivered | failed
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    log: tuple[Attempt, ...] = field(default=())
