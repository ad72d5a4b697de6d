"""Errors as pages for people, JSON for programs.

A browser (Accept: text/html) that hits an error on a public page (an unknown credential, a
rate limit, an unknown route) gets a page saying what happened and where to go next; the API
(/v1, /admin, the wallet exchanges) keeps FastAPI's JSON errors whatever the client accepts.
"""

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from cairn.adapters.error_kinds import DatabaseError, database_unavailable
from cairn.usecases.translated_templates import N_
from services.gateway.dependencies import templates

API_PREFIXES = ("/v1/", "/admin/", "/exchanges/")
TITLES = {
    400: N_("That request did not make sense"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not found"),
    409: N_("That cannot be done now"),
    410: N_("This link has expired"),
    413: N_("That upload is too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many attempts"),
}
# seconds a client is asked to wait while the database is away (a restart takes a few)
DATABASE_RETRY_AFTER = "5"
DATABASE_AWAY = "the database is unavailable (restarting or unreachable); try again in a few seconds"

log = logging.getLogger(__name__)

SOMETHING_WRONG = N_("Something went wrong")


def wants_page(request: Request) -> bool:
    path = request.url.path
    if path.startswith(API_PREFIXES) or path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "")


async def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code < 400 or not wants_page(request):
        return await http_exception_handler(request, exc)
    generic = {s.value: s.phrase for s in HTTPStatus}.get(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != generic else ""
    retry = (exc.headers or {}).get("Retry-After")
    return error_page(request, exc.status_code, [detail] if detail else [], retry, exc.headers)


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    if not wants_page(request):
        return await request_validation_exception_handler(request, exc)
    problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors()]
    return error_page(request, 422, problems)


def error_page(
    request: Request,
    status: int,
    problems: list[str],
    retry_after: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    minutes = -(-int(retry_after) // 60) if retry_after and retry_after.isdigit() else None
    context = {
        "status": status,
        "title": TITLES.get(status, SOMETHING_WRONG),  # translated by the page
        "problems": problems,
        "retry_minutes": minutes,
    }
    return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)


async def database_error(request: Request, exc: DatabaseError) -> Response:
    """A database that is down or restarting is a 503 with Retry-After, for the client to send
    the same request again (events are kept once per id, so a batch that reached Kafka before
    the database went counts once); any other database error stays a 500, logged in full."""
    if not database_unavailable(exc):
        raise exc
    first_line = str(exc).split("\n")[0]
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, first_line)
    headers = {"Retry-After": DATABASE_RETRY_AFTER}
    if wants_page(request):
        return error_page(request, 503, [], DATABASE_RETRY_AFTER, headers)
    return await http_exception_handler(request, HTTPException(503, DATABASE_AWAY, headers))


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(DatabaseError, database_error)  # type: ignore[arg-type]
