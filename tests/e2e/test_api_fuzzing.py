"""Property-based fuzzing of the running gateway from its own /openapi.json (schemathesis).

Every operation the document describes gets generated requests, sent with an organisation's API
key (every scope) or, for /admin routes, the platform admin token. Each response must not be a
5xx and must match what the document declares: its status code, content type and body schema.
A short run is part of `make test`; `make fuzz` runs the nightly size (CAIRN_FUZZ_EXAMPLES).

Not covered here, on purpose: the dashboard's routes (/dashboard/...) are HTML forms kept out of
the OpenAPI document (include_in_schema=False), so there is nothing to generate them from; the
hostile-input test posts to its CSV upload.
"""

import os
import re
from collections import Counter

import hypothesis
import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devtools import dev
from tests.conftest import System, system_with, ten_hours_badge
from tests.e2e.volunteering import wait_until_consumed

pytestmark = pytest.mark.e2e
ADMIN_TOKEN = "admin-token-for-fuzzing"
EXAMPLES = int(os.environ.get("CAIRN_FUZZ_EXAMPLES", "20"))
SERVICES = list(dev.SERVICES)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Rate limits stay on (429 is part of the contract, and the earner pages' per-address limits are
# fixed), but the per-key bucket is large enough that most requests reach the route itself.
system = system_with(
    "cairn-fuzz",
    CAIRN_ADMIN_TOKEN=ADMIN_TOKEN,
    CAIRN_API_BURST="100000",
    CAIRN_API_REQUESTS_PER_MINUTE="100000",
)


@pytest.fixture(scope="module")
def org_key(system: System) -> str:
    created = system.cairn("org", "create", "Fuzzing Food Bank", "--slug", "fuzzing").stdout
    key = re.search(r"api key (\S+)", created).group(1)
    # Something to find, so badge routes are not all 404s; and one activity earns it, so fuzzed
    # events become credentials and emails (names and all) further down the pipeline.
    badge = requests.post(
        f"{system.public_url}/v1/badge-classes",
        json=ten_hours_badge(criteria={"kind": "count", "at_least": 1}),
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert badge.status_code == 201, badge.text
    return key


@pytest.fixture(scope="module")
def gateway_schema(system: System) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{system.public_url}/openapi.json", timeout=30)
    schema.config.base_url = system.public_url
    return schema


def test_a_body_that_is_not_utf8_is_refused_not_a_crash(system: System, org_key: str) -> None:
    """Found by fuzzing: bytes that are not UTF-8 in a JSON body were a 500."""
    for path in ["/v1/verify", "/v1/events"]:
        response = requests.post(
            f"{system.public_url}{path}",
            data=b"\xa3P",
            headers={"Authorization": f"Bearer {org_key}", "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert response.json()["detail"][0]["type"] == "json_invalid"


def test_an_organisation_keeps_name_colour_and_time_zone_when_sent_null(system: System, org_key: str) -> None:
    """Found by fuzzing: PATCH /v1/org with "colour": null (or "name") was a 500 (NOT NULL)."""
    org = requests.Session()
    org.headers["Authorization"] = f"Bearer {org_key}"
    for field in ["colour", "name", "timezone"]:  # timezone: found by fuzzing too
        response = org.patch(f"{system.public_url}/v1/org", json={field: None}, timeout=30)
        assert response.status_code == 422, (field, response.status_code, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    cleared = org.patch(f"{system.public_url}/v1/org", json={"url": None}, timeout=30)
    assert cleared.status_code == 200 and cleared.json()["url"] is None, cleared.text


def test_a_csv_the_csv_module_cannot_read_is_refused_not_a_crash(system: System, org_key: str) -> None:
    """Found by fuzzing: a bare CR inside a line, or a cell over the csv module's size limit,
    raised csv.Error: a 500. A CR-only file (old Mac exports) now reads; the huge cell is a 422."""
    org = requests.Session()
    org.headers["Authorization"] = f"Bearer {org_key}"
    url = f"{system.public_url}/v1/events/csv?dry_run=true"
    cr_only = "E-mail,Name,Shift Date,Time In,Time Out\rivy@example.org,Ivy,02/11/2026,09:00,14:00\r"
    read = org.post(url, files={"file": ("rota.csv", cr_only.encode())}, timeout=30)
    assert read.status_code == 200 and read.json()["rows"] == 1, read.text
    huge = "E-mail,Volunteer Name\nivy@example.org," + "x" * 200_000 + "\n"
    refused = org.post(url, files={"file": ("rota.csv", huge.encode())}, timeout=30)
    assert refused.status_code == 422 and "cannot be read as CSV" in refused.json()["detail"], refused.text


def test_a_time_zone_name_too_long_for_a_file_is_refused_not_a_crash(system: System, org_key: str) -> None:
    """Found by fuzzing: ZoneInfo opens a file named after the zone; a long name raised OSError
    (File name too long), a 500."""
    response = requests.post(
        f"{system.public_url}/v1/events/csv",
        params={"dry_run": "true", "timezone": "Europe/" + "x" * 300},
        files={"file": ("rota.csv", b"E-mail,Name\nivy@example.org,Ivy\n")},
        headers={"Authorization": f"Bearer {org_key}"},
        timeout=30,
    )
    assert response.status_code == 422 and "unknown time zone" in response.json()["detail"], response.text


def fuzz(operation: schemathesis.APIOperation, token: str, figures: Counter[str]) -> None:
    """Runs valid and invalid requests (schemathesis' positive and negative generation) against
    one operation, checking each response; raises on the first failing one."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=EXAMPLES <= 20,  # the CI run is the same every time; the nightly one explores
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=cases)
    def answers_as_documented(case: schemathesis.Case) -> None:
        figures["requests"] += 1
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=30)

    answers_as_documented()


def test_every_operation_answers_as_documented(
    capsys: pytest.CaptureFixture[str],
    system: System,
    gateway_schema: schemathesis.BaseSchema,
    org_key: str,
) -> None:
    """Every operation in turn; all failures are gathered, then reported together."""
    figures: Counter[str] = Counter()
    failures: dict[str, str] = {}
    stopped = False
    for result in gateway_schema.get_all_operations():
        operation = result.ok()
        token = ADMIN_TOKEN if operation.path.startswith("/admin/") else org_key
        figures["operations"] += 1
        try:
            fuzz(operation, token, figures)
        except (Exception, FailureGroup) as e:
            failures[operation.label] = f"{type(e).__name__}: {e}"
            if system.process.poll() is not None:
                stopped = True  # every later request would fail to connect
                break
    line = (
        f"API fuzzing: {figures['operations']} operations, {figures['requests']} requests, "
        f"{len(failures)} operations failing ({EXAMPLES} examples per operation)"
        + ("; then cairn dev stopped, and the remaining operations were not fuzzed" if stopped else "")
    )
    with capsys.disabled():
        print("\n" + line)
    assert not failures, line + "\n\n" + "\n\n".join(f"{label}:\n{why}" for label, why in failures.items())


def test_no_service_died_of_the_fuzzed_records(system: System) -> None:
    """What the gateway accepted flows on through Kafka: the aggregator, signer and notifier
    must take every record (a poison one goes to a .dlq), never crash-loop on one.

    One restart is tolerated: on a starved machine the aggregator's stall watchdog may restart
    it once, which no input causes. A record that crashes a service crashes it again on every
    restart, so it shows as several."""
    wait_until_consumed(system)  # every stage has taken every record the gateway accepted
    log = (system.var_dir / "dev.log").read_text()
    assert system.process.poll() is None, "cairn dev stopped:\n" + log[-3000:]
    assert requests.get(f"{system.public_url}/healthz", timeout=30).status_code == 200
    restarts = {service: log.count(f"{service} exited") for service in SERVICES}
    assert max(restarts.values()) <= 1, f"services restarted during the fuzzing: {restarts}\n{log[-3000:]}"


def test_secrets_with_non_ascii_characters_are_refused_not_a_crash(system: System) -> None:
    """Found by fuzzing: hmac.compare_digest raises TypeError for a str with non-ASCII
    characters, so an unsubscribe code (or an admin token) like "ß" was a 500."""
    unsubscribe = requests.post(f"{system.public_url}/unsubscribe/0/0/%C3%9F%0C", timeout=30)
    assert unsubscribe.status_code == 404, unsubscribe.text
    admin = requests.post(
        f"{system.public_url}/admin/v1/orgs",
        json={"name": "Nobody"},
        headers={"Authorization": "Bearer \u00df".encode("latin-1")},
        timeout=30,
    )
    assert admin.status_code == 401, admin.text
