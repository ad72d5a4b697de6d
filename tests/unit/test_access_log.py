import io
import json
import logging

from cairn.adapters.logs import JsonLines
from cairn.adapters.logs import redact as redact_line
from services.gateway.access_log import redact


def test_link_secrets_are_redacted_and_other_paths_kept():
    line = '127.0.0.1:5 - "GET /claim/df674f36 HTTP/1.1" 200'
    assert redact(line) == '127.0.0.1:5 - "GET /claim/… HTTP/1.1" 200'
    assert redact("POST /claim/abc123/renew") == "POST /claim/…/renew"
    assert redact("GET /my-badges/tok3n") == "GET /my-badges/…"
    assert redact("POST /exchanges/x1y2") == "POST /exchanges/…"
    assert redact("POST /unsubscribe/riverside/abcd/0f0f") == "POST /unsubscribe/riverside/abcd/…"
    assert redact("GET /v1/credentials?status=active") == "GET /v1/credentials?status=active"
    assert redact("GET /my-badges") == "GET /my-badges"


# The same redaction on every service's JSON lines (cairn.adapters.logs)


def _logged(*args, exc_info: bool = False, **extra) -> dict:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines("notifier"))
    logger = logging.getLogger("test.json_lines")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(*args, exc_info=exc_info, extra=extra)
    finally:
        logger.removeHandler(handler)
    (line,) = out.getvalue().splitlines()
    return json.loads(line)


def test_a_json_line_holds_the_service_level_logger_message_and_ids():
    line = _logged("credential %s signed", "urn:uuid:c1", award_id="a1", credential_id="urn:uuid:c1")
    assert (
        line["service"] == "notifier" and line["level"] == "WARNING" and line["logger"] == "test.json_lines"
    )
    assert line["message"] == "credential urn:uuid:c1 signed"
    assert (line["award_id"], line["credential_id"]) == ("a1", "urn:uuid:c1")
    assert line["timestamp"].endswith("+00:00")


def test_json_lines_redact_link_secrets_addresses_and_secret_fields():
    line = _logged(
        "GET /claim/df674f36 for sam@example.org",
        smtp_answer="550 5.1.1 <sam@example.org>: no such user",
        api_key="ck_live_abc",
        smtp_password="hunter2",
        message_id="<0b7c-41@claim.cairn>",
    )
    text = json.dumps(line)
    for secret in ("df674f36", "sam@example.org", "ck_live_abc", "hunter2"):
        assert secret not in text
    assert line["message"] == "GET /claim/… for …@…"
    assert line["smtp_answer"] == "550 5.1.1 <…@…>: no such user"
    assert line["message_id"] == "<0b7c-41@claim.cairn>", "a Message-ID is an id to follow"


def test_an_exception_in_a_json_line_is_redacted_too():
    try:
        raise ValueError("refused kit@example.org")
    except ValueError:
        line = _logged("failed", exc_info=True)
    assert "kit@example.org" not in line["exception"] and "ValueError" in line["exception"]
    assert redact_line("POST /unsubscribe/riverside/abcd/0f0f") == "POST /unsubscribe/riverside/abcd/…"
