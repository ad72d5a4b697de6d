"""Operating Cairn, on a real run: the metrics count what happened, the JSON logs follow an event
to its email, and `cairn trace` answers "why didn't Sam get her badge?".

The history: three volunteers (two earn the ten-hours badge, and one of those two's claim email
bounces), one event refused with 422, one poison record written straight to cairn.activity.v1."""

import json
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cairn.adapters.kafka import topics
from devtools.topic_reader import write_raw
from tests.conftest import System, ten_hours_badge
from tests.e2e.volunteering import (
    organisation,
    shift,
    wait_for_mail,
    wait_for_progress,
    wait_until,
    wait_until_consumed,
)

pytestmark = pytest.mark.e2e

EARNS, BOUNCES, SHORT = "sam@example.org", "bounce-lee@example.org", "kit@example.org"
ACTIVITY_DLQ = topics.dlq(topics.ACTIVITY)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus endpoint: (name, sorted labels) -> value."""
    text = httpx.get(url, timeout=10).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def worker(system: System, service: str) -> str:
    return f"http://127.0.0.1:{system.env[f'CAIRN_METRICS_PORT_{service.upper()}']}/metrics"


def trace(system: System, email: str) -> dict:
    return json.loads(system.cairn("trace", "--email", email, "--org", "pantry", "--json").stdout)


@pytest.fixture(scope="module")
def history(system: System, kafka: str) -> httpx.Client:
    client = organisation(system, "Pantry", "pantry")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    events = [
        shift("sam-1", 1, 6, EARNS),
        shift("sam-2", 2, 5, EARNS),
        shift("lee-1", 1, 10, BOUNCES),
        shift("kit-1", 3, 2, SHORT),
    ]
    assert client.post("/v1/events", json={"events": events[:2]}).status_code == 202
    for event in events[2:]:
        assert client.post("/v1/events", json=event).status_code == 202
    refused = client.post("/v1/events", json={**shift("bad-1", 4, 3, SHORT), "hours": -3})
    assert refused.status_code == 422
    wait_for_progress(client, SHORT, lambda b: b and b[0]["figures"][0]["achieved"] == 2)
    kit = trace(system, SHORT)
    poison_key = f"{kit['org_id']}:{kit['recipient_key']}".encode()
    write_raw(kafka, topics.ACTIVITY, poison_key, b"{not a cloud event")
    wait_for_mail(system.mail_dir, 1)
    wait_until(
        lambda: scrape(f"{system.public_url}/metrics"),
        lambda m: m.get(("cairn_store_emails", (("status", "bounced"),))) == 1,
        "the bounce recorded",
        60,
        0.5,
    )
    wait_until_consumed(system)
    return client


def test_the_gateway_counts_events_and_reports_the_stores_totals(system, history):
    metrics = scrape(f"{system.public_url}/metrics")
    assert metrics[("cairn_events_accepted_total", ())] == 4
    refused = {k[1]: v for k, v in metrics.items() if k[0] == "cairn_events_refused_total"}
    assert sum(refused.values()) == 1
    assert list(refused) == [(("reason", "hours:greater_than"),)]
    assert metrics[("cairn_store_credentials", ())] == 2
    assert metrics[("cairn_store_emails", (("status", "sent"),))] == 1
    assert metrics[("cairn_store_emails", (("status", "bounced"),))] == 1
    assert metrics[("cairn_store_emails", (("status", "failed"),))] == 0


def test_each_worker_counts_what_it_did(system, history):
    aggregator = scrape(worker(system, "aggregator"))
    assert aggregator[("cairn_awards_total", ())] == 2
    assert aggregator[("cairn_dead_lettered_total", (("topic", ACTIVITY_DLQ),))] == 1
    assert aggregator[("cairn_event_to_award_seconds_count", ())] == 2
    signer = scrape(worker(system, "signer"))
    assert signer[("cairn_credentials_signed_total", ())] == 2
    assert signer[("cairn_award_to_credential_seconds_count", ())] == 2
    # delays from when each record was written, not from the shift's or the earning's time (weeks ago)
    assert aggregator[("cairn_event_to_award_seconds_sum", ())] < 120
    assert signer[("cairn_award_to_credential_seconds_sum", ())] < 120
    notifier = scrape(worker(system, "notifier"))
    assert notifier[("cairn_emails_total", (("outcome", "sent"),))] == 1
    assert notifier[("cairn_emails_total", (("outcome", "bounced"),))] == 1
    assert notifier[("cairn_credential_to_email_seconds_count", ())] == 1
    assert notifier[("cairn_credential_to_email_seconds_sum", ())] < 120
    print(
        "delays (s): event->award",
        aggregator[("cairn_event_to_award_seconds_sum", ())] / 2,
        "award->credential",
        signer[("cairn_award_to_credential_seconds_sum", ())] / 2,
        "credential->email",
        notifier[("cairn_credential_to_email_seconds_sum", ())],
    )
    lags = {k[1]: v for k, v in signer.items() if k[0] == "cairn_consumer_lag"}
    assert lags and all(v == 0 for v in lags.values())
    assert {dict(k)["group"] for k in lags} == {"cairn-signer"}
    projector = scrape(worker(system, "projector"))
    assert "cairn-gateway-progress" in {
        dict(k[1])["group"] for k in projector if k[0] == "cairn_consumer_lag"
    }


def test_one_grep_follows_an_event_to_its_email(system, history):
    lines = [
        json.loads(line)
        for log in (system.var_dir / "logs").glob("*.log")
        for line in log.read_text().splitlines()
        if line.startswith("{")
    ]
    for service in ("gateway", "aggregator", "signer", "notifier", "projector"):
        text = (system.var_dir / "logs" / f"{service}.log").read_text().splitlines()
        not_json = [line for line in text if line and not line.startswith("{")]
        assert not not_json, f"{service}: {not_json[:5]}"
        first = json.loads(text[0])
        assert {"timestamp", "service", "level", "logger", "message"} <= set(first) and first[
            "service"
        ] == service
    award = next(line for line in lines if "sam-2" in line.get("event_ids", []))
    credential = next(
        line for line in lines if line["service"] == "signer" and line.get("award_id") == award["award_id"]
    )
    email = next(
        line
        for line in lines
        if line["service"] == "notifier" and line.get("credential_id") == credential["credential_id"]
    )
    assert email["message_id"].endswith("@claim.cairn>") and email["award_id"] == award["award_id"]
    assert award["service"] == "aggregator" and award["logger"] == "cairn.aggregator"
    assert email["status"] == "sent"
    # every Cairn service's log; the dev SMTP sink stands in for a mail server and names recipients
    everything = "\n".join(
        log.read_text() for log in (system.var_dir / "logs").glob("*.log") if log.name != "smtp-sink.log"
    )
    for secret in (EARNS, BOUNCES, SHORT, "Sam Okafor"):
        assert secret not in everything
    assert not re.search(r"/claim/[A-Za-z0-9_-]{8,}", everything)


def test_trace_shows_a_badge_earned_and_emailed(system, history):
    sam = trace(system, EARNS)
    assert [e["id"] for e in sam["events"]] == ["sam-1", "sam-2"]
    assert [a["badge_class_id"] for a in sam["awards"]] == ["ten-hours"]
    (credential,) = sam["credentials"]
    assert credential["award_id"] == sam["awards"][0]["award_id"]
    assert credential["email"]["status"] == "sent" and credential["email"]["message_id"].endswith(
        "@claim.cairn>"
    )
    assert sam["dead_letters"] == []
    text = system.cairn("trace", "--email", EARNS, "--org", "pantry").stdout
    print(text)  # the report's example (pytest -s)
    assert "sam-2" in text and "email <" in text and "@claim.cairn> sent" in text


def test_trace_shows_a_bounce_with_the_servers_answer(system, history):
    (credential,) = trace(system, BOUNCES)["credentials"]
    assert credential["email"]["status"] == "bounced"
    assert credential["email"]["smtp_answer"].startswith("550 5.1.1")


def test_the_dashboards_volunteer_row_shows_the_bounce_and_its_answer(system, history):
    dashboard = httpx.Client(base_url=system.public_url)
    api_key = history.headers["Authorization"].removeprefix("Bearer ")
    assert dashboard.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 303
    page = dashboard.get("/dashboard/volunteers").text
    rows = {
        re.search(r'<span class="muted">([^<]+@[^<]+)</span>', row)[1]: row
        for row in page.split('<tr class="volunteer">')[1:]
    }
    assert 'data-status="bounced"' in rows[BOUNCES] and "550 5.1.1" in rows[BOUNCES]
    assert 'data-status="sent"' in rows[EARNS] and "bounced" not in rows[EARNS]
    assert "data-status" not in rows[SHORT]


def test_trace_shows_a_dead_lettered_record(system, history):
    kit = trace(system, SHORT)
    assert [e["id"] for e in kit["events"] if e["id"]] == ["kit-1"]
    assert kit["awards"] == [] and kit["credentials"] == []
    (letter,) = kit["dead_letters"]
    assert letter["topic"] == ACTIVITY_DLQ and letter["from"].startswith(f"{topics.ACTIVITY}/")
    assert kit["progress"][0]["figures"][0]["achieved"] == 2
