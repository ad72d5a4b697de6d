"""What every gateway route may ask for, as FastAPI dependencies: the store, the publisher,
settings, the mailer, the clock, rate limits, the organisation behind an API key, and the
templates.

The default providers read the running objects that app.py's lifespan puts on app.state. A test
replaces any of them with `app.dependency_overrides[get_store] = lambda: fake_store` (and so on),
with no Kafka, SMTP or database behind the gateway.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cairn.adapters.smtp import Mailer
from cairn.adapters.store import Store
from cairn.domain.colour import contrast_ratio
from cairn.domain.records import ApiKeyInfo, Org
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher
from cairn.settings import Settings
from cairn.usecases.intake_batches import IntakeBatcher
from cairn.usecases.issuer_documents import own_then
from cairn.usecases.verifying import FetchJson, http_fetcher
from services.gateway import rate_limits, strict_json
from services.gateway.page_language import PageTemplates
from services.gateway.rate_limits import RateLimiter

templates = PageTemplates(Path(__file__).parent / "templates")  # volunteer pages in their language
templates.env.globals["contrast_ratio"] = contrast_ratio  # dashboard: the org's colour only where legible
bearer = HTTPBearer(auto_error=False)


@dataclass
class Limits:
    """Per-key rate limits of the gateway (in memory: one gateway process, or per process)."""

    api_keys: RateLimiter  # per API key
    claim_lookups: RateLimiter  # per client address, misses only: secrets in links are not to be guessed
    earner_emails: RateLimiter  # per client address and per email: "send me a link" requests
    # per client address: workshop check-ins (a room on one Wi-Fi shares an address, so generous)
    check_ins: RateLimiter = field(default_factory=lambda: RateLimiter(per_minute=60, burst=40))


# ---- the providers: one per running object, each overridable ----
# All `async def` though none awaits: FastAPI runs a plain `def` dependency in its thread pool,
# a thread hop per provider per request (measured by bench/gateway.py).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_publisher(request: Request) -> Publisher:
    """What records go to Kafka through (acks=all)."""
    return request.app.state.publisher


async def get_mailer(request: Request) -> Mailer:
    return request.app.state.mailer


async def get_limits(request: Request) -> Limits:
    return request.app.state.limits


async def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


async def get_clock() -> Clock:
    return SYSTEM_CLOCK


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
PublisherDep = Annotated[Publisher, Depends(get_publisher)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
ClockDep = Annotated[Clock, Depends(get_clock)]


# ---- what the providers make up ----


async def get_intake(request: Request, store: StoreDep, publisher: PublisherDep) -> IntakeBatcher:
    """The app's one IntakeBatcher over the store and publisher these requests get (so that
    concurrent POST /v1/events share commits and acks); a new one if an override changed either."""
    intake = getattr(request.app.state, "intake", None)
    if intake is None or intake.store is not store or intake.publisher is not publisher:
        intake = request.app.state.intake = IntakeBatcher(store, publisher)
    return intake


IntakeDep = Annotated[IntakeBatcher, Depends(get_intake)]


async def get_fetcher(store: StoreDep, settings: SettingsDep, http: HttpDep) -> FetchJson:
    """Own documents from the store; other hosts only if CAIRN_VERIFY_ALLOW_HOSTS names them."""
    return own_then(store, settings.public_url, http_fetcher(http, settings.verify_allow_hosts))


FetcherDep = Annotated[FetchJson, Depends(get_fetcher)]


def rate_limit(limiter: RateLimiter, key: str) -> None:
    wait = limiter.check(key)
    if wait:
        raise HTTPException(
            429, "too many requests; try again later", headers={"Retry-After": str(int(wait) + 1)}
        )


async def get_client_address(request: Request, settings: SettingsDep) -> str:
    """The client behind CAIRN_TRUSTED_PROXIES (X-Forwarded-For), else the direct peer."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.getlist("x-forwarded-for")
    return rate_limits.client_address(peer, forwarded, settings.trusted_proxies)


ClientAddress = Annotated[str, Depends(get_client_address)]


async def get_miss_counter(limits: LimitsDep, address: ClientAddress) -> Callable[[], None]:
    """Counts a secret (claim or sign-in link, API key, exchange) that matched nothing against the
    client's address, and refuses once too many did. Only misses count, so people sharing one
    address (a NAT, a proxy) can still open their own links after someone else's wrong guesses;
    the secrets carry 170 or more unguessable bits, so the limit makes guessing noisy, not possible."""
    return lambda: rate_limit(limits.claim_lookups, address)


MissCounter = Annotated[Callable[[], None], Depends(get_miss_counter)]


def admit(limits: Limits, key: ApiKeyInfo, scope: str) -> None:
    """The one check for both doors (API bearer key, dashboard session): scope, then rate limit."""
    if scope not in key.scopes:
        raise HTTPException(403, f"this API key lacks the scope {scope!r}")
    rate_limit(limits.api_keys, key.id)


def requires(scope: str) -> Any:
    """The organisation of the request's API key, if the key has `scope` (and is within its
    rate limit)."""

    async def organisation(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        store: StoreDep,
        limits: LimitsDep,
    ) -> Org:
        if credentials is None:
            raise HTTPException(401, "send Authorization: Bearer <API key>")
        key = await store.api_key(credentials.credentials)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key")
        admit(limits, key, scope)
        return key.org

    return Depends(organisation)


EventWriter = Annotated[Org, requires("events:write")]
BadgeWriter = Annotated[Org, requires("badges:write")]
CredentialWriter = Annotated[Org, requires("credentials:write")]
Reader = Annotated[Org, requires("read")]
OrgAdmin = Annotated[Org, requires("org:admin")]


async def json_body(request: Request) -> Any:
    """Parsed as strictly as StrictJsonBodies parses JSON bodies, whatever the content type;
    the value it parsed already if it did."""
    found, value = strict_json.parsed_body(request.scope)
    if found:
        return value
    try:
        return strict_json.loads(await request.body())
    except strict_json.JsonRefused as e:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": str(e), "input": None}]
        ) from e
