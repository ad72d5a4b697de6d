"""The error answers the OpenAPI document declares, so a client (and the fuzzing test, which
checks every response against the document) knows each status a route may give.

Most come from machinery every route shares rather than from the route's own code: the API key
check (401/403/429), the body cap (413), request validation (400/422) and lookups by a path
parameter (404). They are added here to each operation that has that machinery; the few that
belong to one route's own logic are listed in ROUTE_ERRORS.
"""

from typing import Any

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"description": "what was wrong: a sentence, field errors or row errors"}},
}
_ERROR_BODY = {"application/json": {"schema": _ERROR_SCHEMA}}

# Answers of one route's own logic, by (method, path): the earner pages' rate limits per client
# address, links that expired, conflicts.
ROUTE_ERRORS: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/admin/v1/orgs"): {409: "the slug is taken"},
    ("get", "/claim/{token}"): {
        410: "the claim link expired (its page offers a new one)",
        429: "too many lookups",
    },
    ("post", "/claim/{token}/renew"): {429: "too many lookups or renewals"},
    ("get", "/claim/{token}/wallet"): {429: "too many lookups"},
    ("post", "/exchanges/{exchange_id}"): {
        400: "the presentation is not a valid DIDAuth response",
        409: "this exchange was used already",
        429: "too many lookups",
    },
    ("post", "/my-badges"): {429: "too many sign-in emails asked for, from this address or for this email"},
    ("get", "/my-badges/{token}"): {410: "the sign-in link expired", 429: "too many lookups"},
}


def declare_errors(document: dict[str, Any]) -> None:
    """Adds the error responses each operation can give to the OpenAPI `document`, in place."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for status, description in _errors_of(method, path, operation).items():
                answer: dict[str, Any] = {"description": description}
                if path.startswith(("/v1/", "/admin/")):
                    answer["content"] = _ERROR_BODY
                operation.setdefault("responses", {}).setdefault(str(status), answer)
            _widen_422(operation)


def _widen_422(operation: dict[str, Any]) -> None:
    """FastAPI documents a 422 as field errors only; routes also answer 422 with a sentence (an
    image that is neither PNG nor SVG, a CSV that is not UTF-8) or with a CSV's row errors."""
    content = operation.get("responses", {}).get("422", {}).get("content", {}).get("application/json", {})
    if "schema" in content and content["schema"] is not _ERROR_SCHEMA:
        content["schema"] = {"anyOf": [content["schema"], _ERROR_SCHEMA]}


def _errors_of(method: str, path: str, operation: dict[str, Any]) -> dict[int, str]:
    errors: dict[int, str] = {}
    if operation.get("security"):
        if path.startswith("/admin/"):
            errors[401] = "no admin token, or a wrong one"
            errors[404] = "the admin API is off (CAIRN_ADMIN_TOKEN is not set)"
        else:
            errors[401] = "no API key, or an unknown or revoked one"
            errors[403] = "the API key lacks the scope this route needs"
            errors[429] = "the API key's rate limit is used up (see Retry-After)"
    if "requestBody" in operation:
        errors[400] = "the body could not be read (not UTF-8, or a broken form)"
        errors[413] = "the body is larger than CAIRN_MAX_REQUEST_BYTES"
    if "requestBody" in operation or operation.get("parameters"):
        errors[422] = "the request does not match its schema"
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        errors[404] = "nothing of that id (in this organisation)"
    return {**errors, **ROUTE_ERRORS.get((method, path), {})}
