"""Cairn's Prometheus metrics, defined once: every service imports the objects from here and
counts at its edge (routes, consume loops, the workers' handlers); use cases stay pure.

The gateway serves them at /metrics; each worker on its own port (CAIRN_METRICS_PORT_<SERVICE>,
0 = off), with GET /readyz there too (200 once the worker consumes, 503 before: its health check).
The pipeline's totals read from the store are added by the gateway at scrape time
(`store_totals`)."""

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest

from cairn.adapters.readiness import WORKER, Readiness

log = logging.getLogger(__name__)

# seconds: from a few milliseconds in a quiet system up to an SMTP relay retrying for minutes
DELAY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

EVENTS_ACCEPTED = Counter("cairn_events_accepted", "Events the gateway accepted (202: on Kafka).")
EVENTS_REFUSED = Counter(
    "cairn_events_refused", "Event requests the gateway refused with 422, by field and reason.", ["reason"]
)
DEAD_LETTERED = Counter("cairn_dead_lettered", "Records sent to a dead-letter topic, by topic.", ["topic"])
AWARDS = Counter("cairn_awards", "Awards the aggregator granted (sent to cairn.awards.v1).")
CREDENTIALS_SIGNED = Counter("cairn_credentials_signed", "Credentials the signer issued and announced.")
EMAILS = Counter("cairn_emails", "Claim emails by outcome (sent, bounced, failed, suppressed).", ["outcome"])
CONSUMER_LAG = Gauge(
    "cairn_consumer_lag",
    "Records behind the high watermark, per consumer group and partition.",
    ["group", "topic", "partition"],
)
ACCEPTED_TO_AWARD = Histogram(
    "cairn_event_to_award_seconds",
    "From an event's acceptance (its record's time) to the award it completed.",
    buckets=DELAY_BUCKETS,
)
AWARD_TO_CREDENTIAL = Histogram(
    "cairn_award_to_credential_seconds",
    "From an award's record to its credential signed.",
    buckets=DELAY_BUCKETS,
)
CREDENTIAL_TO_EMAIL = Histogram(
    "cairn_credential_to_email_seconds",
    "From a credential's record to its claim email accepted by the SMTP server.",
    buckets=DELAY_BUCKETS,
)

# What the gateway reports from the store, across every process and restart.
STORE_CREDENTIALS = "cairn_store_credentials"
STORE_EMAILS = "cairn_store_emails"
STORE_METRICS = (STORE_CREDENTIALS, STORE_EMAILS)


def seconds_since(moment: datetime) -> float:
    """Never negative: clocks of two processes on one host may differ by a little."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


def refusal_reason(errors: list[dict]) -> str:
    """A bounded label for a 422: the first error's field (last named part of its location) and
    pydantic's error type, never the value sent."""
    if not errors:
        return "request:invalid"
    first = errors[0]
    names = [str(p) for p in first.get("loc", ()) if isinstance(p, str) and p not in ("body",)]
    return f"{names[-1] if names else 'body'}:{first.get('type', 'invalid')}"[:80]


def store_totals(credentials: int, emails: dict[str, int]) -> bytes:
    """The store's totals in the exposition format, appended to the gateway's own metrics."""
    registry = CollectorRegistry()

    class Totals:
        def collect(self) -> Iterator[GaugeMetricFamily]:
            signed = GaugeMetricFamily(STORE_CREDENTIALS, "Credentials in the store (all processes).")
            signed.add_metric([], credentials)
            yield signed
            sent = GaugeMetricFamily(
                STORE_EMAILS, "Claim emails in the store's notifications, by status.", labels=["status"]
            )
            for status in ("sent", "bounced", "failed", "suppressed", "sending"):
                sent.add_metric([status], emails.get(status, 0))
            yield sent

    registry.register(Totals())
    return generate_latest(registry)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds: no log
        pass


def worker_endpoints(readiness: Readiness = WORKER) -> Callable[..., Iterable[bytes]]:
    """The WSGI app on a worker's metrics port: /readyz from `readiness`, anything else metrics."""
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/readyz":
            return metrics(environ, start_response)
        ready, loops = readiness.ready(), readiness.state()
        body = json.dumps({"status": "ready" if ready else "not ready", "consumers": loops}).encode()
        status = "200 OK" if ready else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve_metrics(port: int, service: str, host: str = "127.0.0.1") -> None:
    """Starts the worker's metrics and readiness endpoint (a daemon thread); 0 leaves it off. A
    port already taken is logged, not fatal: the worker's work matters more than its numbers."""
    if not port:
        return
    try:
        server = make_server(host, port, worker_endpoints(), _Server, handler_class=_Quiet)
    except OSError as e:
        log.warning("metrics for %s not served on port %d: %s", service, port, e)
        return
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics for %s on http://%s:%d/metrics (and /readyz)", service, host, port)
