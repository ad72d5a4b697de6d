"""The metrics' labels stay bounded and carry no values sent; the store's totals render as
Prometheus text; a worker's endpoint can be turned off or fail without stopping the worker."""

import socket
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from cairn.adapters.metrics import refusal_reason, seconds_since, serve_metrics, store_totals


def test_a_refusal_is_labelled_by_field_and_error_type_never_by_value():
    errors = [{"loc": ("body", "volunteer_shift", "hours"), "type": "greater_than", "input": -3}]
    assert refusal_reason(errors) == "hours:greater_than"
    assert refusal_reason([{"loc": ("body", "events", 0, "volunteer", "email"), "type": "value_error"}]) == (
        "email:value_error"
    )
    assert refusal_reason([{"loc": (), "type": "json_invalid"}]) == "body:json_invalid"
    assert refusal_reason([]) == "request:invalid"


def test_the_stores_totals_are_prometheus_gauges():
    text = store_totals(3, {"sent": 2, "bounced": 1}).decode()
    samples = {
        (s.name, tuple(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("cairn_store_credentials", ())] == 3
    assert samples[("cairn_store_emails", (("status", "sent"),))] == 2
    assert samples[("cairn_store_emails", (("status", "bounced"),))] == 1
    assert samples[("cairn_store_emails", (("status", "failed"),))] == 0


def test_delays_are_never_negative():
    assert seconds_since(datetime.now(UTC) + timedelta(seconds=5)) == 0
    assert 59 < seconds_since(datetime.now(UTC) - timedelta(minutes=1)) < 61


def test_a_taken_metrics_port_is_logged_not_fatal(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        serve_metrics(taken.getsockname()[1], "signer")
    assert "not served" in caplog.text
    serve_metrics(0, "signer")  # off: nothing to bind


def test_readyz_answers_503_until_every_consume_loop_has_joined():
    from wsgiref.util import setup_testing_defaults

    from cairn.adapters.metrics import worker_endpoints
    from cairn.adapters.readiness import Readiness

    readiness = Readiness()
    app = worker_endpoints(readiness)

    def get(path: str) -> tuple[str, bytes]:
        environ: dict = {"PATH_INFO": path}
        setup_testing_defaults(environ)
        environ["PATH_INFO"] = path
        status: list[str] = []
        body = b"".join(app(environ, lambda s, headers: status.append(s)))
        return status[0], body

    assert get("/readyz")[0].startswith("503"), "nothing consuming yet"
    readiness.joining("cairn-notifier")
    readiness.joining("cairn-notifier-resends")
    readiness.consuming("cairn-notifier")
    status, body = get("/readyz")
    assert status.startswith("503") and b'"cairn-notifier-resends": false' in body
    readiness.consuming("cairn-notifier-resends")
    assert get("/readyz")[0].startswith("200")
    readiness.stopped("cairn-notifier")
    readiness.stopped("cairn-notifier-resends")
    assert get("/readyz")[0].startswith("503"), "stopped: no longer ready"
    status, body = get("/metrics")
    assert status.startswith("200") and b"cairn_emails_total" in body
