"""What every gateway route may ask for: the store, Kafka, settings, the organisation behind
an API key, rate limits, and the templates. The running objects live on app.state."""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from cairn.adapters.smtp import Mailer
from cairn.adapters.store import Store
from cairn.domain.records import ApiKeyInfo, Org
from cairn.ports import Publisher
from cairn.settings import Settings
from cairn.usecases.issuer_documents import own_then
from cairn.usecases.verifying import FetchJson, http_fetcher
from services.gateway import rate_limits, strict_json
from services.gateway.rate_limits import RateLimiter

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
bearer = HTTPBearer(auto_error=False)


@dataclass
class Limits:
    """Per-key rate limits of the gateway (in memory: one gateway process, or per process)."""

    api_keys: RateLimiter  # per API key
    claim_lookups: RateLimiter  # per client address, misses only: secrets in links are not to be guessed
    earner_emails: RateLimiter  # per client address and per email: "send me a link" requests


def store_of(request: Request) -> Store:
    return request.app.state.store


def producer_of(request: Request) -> AIOKafkaProducer:
    return request.app.state.producer


def publisher_of(request: Request) -> Publisher:
    return request.app.state.publisher


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def mailer_of(request: Request) -> Mailer:
    return request.app.state.mailer


def limits_of(request: Request) -> Limits:
    return request.app.state.limits


def fetcher(request: Request) -> FetchJson:
    """Own documents from the store; other hosts only if CAIRN_VERIFY_ALLOW_HOSTS names them."""
    settings = settings_of(request)
    http: httpx.AsyncClient = request.app.state.http
    return own_then(store_of(request), settings.public_url, http_fetcher(http, settings.verify_allow_hosts))


def rate_limit(limiter: RateLimiter, key: str) -> None:
    wait = limiter.check(key)
    if wait:
        raise HTTPException(
            429, "too many requests; try again later", headers={"Retry-After": str(int(wait) + 1)}
        )


def client_address(request: Request) -> str:
    """The client behind CAIRN_TRUSTED_PROXIES (X-Forwarded-For), else the direct peer."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.getlist("x-forwarded-for")
    return rate_limits.client_address(peer, forwarded, settings_of(request).trusted_proxies)


def count_miss(request: Request) -> None:
    """Counts a secret (claim or sign-in link, API key, exchange) that matched nothing against the
    client's address, and refuses once too many did. Only misses count, so people sharing one
    address (a NAT, a proxy) can still open their own links after someone else's wrong guesses;
    the secrets carry 170 or more unguessable bits, so the limit makes guessing noisy, not possible."""
    rate_limit(limits_of(request).claim_lookups, client_address(request))


def admit(request: Request, key: ApiKeyInfo, scope: str) -> None:
    """The one check for both doors (API bearer key, dashboard session): scope, then rate limit."""
    if scope not in key.scopes:
        raise HTTPException(403, f"this API key lacks the scope {scope!r}")
    rate_limit(limits_of(request).api_keys, key.id)


def requires(scope: str) -> Any:
    """The organisation of the request's API key, if the key has `scope` (and is within its
    rate limit)."""

    async def organisation(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Org:
        if credentials is None:
            raise HTTPException(401, "send Authorization: Bearer <API key>")
        key = await store_of(request).api_key(credentials.credentials)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key")
        admit(request, key, scope)
        return key.org

    return Depends(organisation)


EventWriter = Annotated[Org, requires("events:write")]
BadgeWriter = Annotated[Org, requires("badges:write")]
CredentialWriter = Annotated[Org, requires("credentials:write")]
Reader = Annotated[Org, requires("read")]
OrgAdmin = Annotated[Org, requires("org:admin")]


async def json_body(request: Request) -> Any:
    """Parsed as strictly as StrictJsonBodies parses JSON bodies, whatever the content type."""
    try:
        return strict_json.loads(await request.body())
    except strict_json.JsonRefused as e:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": str(e), "input": None}]
        ) from e
