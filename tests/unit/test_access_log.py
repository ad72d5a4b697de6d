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
