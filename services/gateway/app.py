"""The gateway: the organisation API, claim pages and public credential documents (FastAPI).

Wiring only: requests are validated by the schemas/ models, identities come from the store,
and records go to Kafka. A 202 means Kafka acknowledged every record (acks=all).
"""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from pydantic import EmailStr, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from cairn import bus
from cairn.badge_images import badge_png, badge_svg
from cairn.credential_status import Action, StatusChangeError, change_status, status_list_document
from cairn.credentials import vc_jwt
from cairn.credentials.baking import bake_png, bake_svg
from cairn.credentials.did_web import org_did
from cairn.credentials.status_list import Purpose
from cairn.credentials.verification import Report
from cairn.identity import recipient_key
from cairn.issuer_documents import did_document_for, own_then
from cairn.settings import Settings, get_settings
from cairn.store import Store, store_for
from cairn.store import tables as t
from cairn.store.store import Org
from cairn.verifying import FetchJson, http_fetcher, verify
from schemas.activity import (
    ActivityIn,
    ActivityRecordValue,
    ActivityVoidedIn,
    EventBatchIn,
    EventsAccepted,
    VolunteerShiftIn,
    WorkshopAttendanceIn,
    activity_from_api,
    person_of,
)
from schemas.admin import (
    BadgeClassStored,
    CheckResult,
    CredentialSummary,
    RecipientProgress,
    StatusChangeIn,
    VerificationResult,
)
from schemas.awards import ProgressUpdated
from schemas.badge_class import BadgeClass, BadgeClassIn
from schemas.envelope import ACTIVITY_TYPES, BADGE_CLASS_TYPE, CloudEvent

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
bearer = HTTPBearer(auto_error=False)
_single_event = TypeAdapter(ActivityIn)
EVENT_BODIES = [VolunteerShiftIn, WorkshopAttendanceIn, ActivityVoidedIn, EventBatchIn]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = store_for(settings)
        producer = bus.producer(settings.kafka_bootstrap)
        await producer.start()
        http = httpx.AsyncClient()
        app.state.store, app.state.producer, app.state.http = store, producer, http
        stopping = asyncio.Event()
        progress_views = asyncio.create_task(_keep_progress(settings, store, stopping))
        try:
            yield
        finally:
            stopping.set()
            await progress_views
            await producer.stop()
            await http.aclose()
            await store.close()

    app = FastAPI(
        title="Cairn gateway",
        version="0.1.0",
        description="Post community activity; Cairn turns it into Open Badges 3.0 credentials.",
        lifespan=lifespan,
    )

    def store_of(request: Request) -> Store:
        return request.app.state.store

    def producer_of(request: Request) -> AIOKafkaProducer:
        return request.app.state.producer

    def fetcher(request: Request) -> FetchJson:
        """Own documents from the store; other hosts only if CAIRN_VERIFY_ALLOW_HOSTS names them."""
        elsewhere = http_fetcher(request.app.state.http, settings.verify_allow_hosts)
        return own_then(store_of(request), settings.public_url, elsewhere)

    async def current_org(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Org:
        if credentials is None:
            raise HTTPException(401, "send Authorization: Bearer <API key>")
        org = await store_of(request).org_for_api_key(credentials.credentials)
        if org is None:
            raise HTTPException(401, "unknown or revoked API key")
        return org

    OrgDep = Annotated[Org, Depends(current_org)]

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=EventsAccepted,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/VolunteerShiftIn"},
                                {"$ref": "#/components/schemas/WorkshopAttendanceIn"},
                                {"$ref": "#/components/schemas/ActivityVoidedIn"},
                                {"$ref": "#/components/schemas/EventBatchIn"},
                            ]
                        }
                    }
                },
            }
        },
    )
    async def post_events(request: Request, org: OrgDep) -> EventsAccepted:
        """One event, or {"events": [...]} validated all-or-nothing; 202 once Kafka has them all."""
        body = await _json_body(request)
        try:
            if isinstance(body, dict) and "events" in body:
                events = EventBatchIn.model_validate(body).events
            else:
                events = [_single_event.validate_python(body)]
        except ValidationError as e:
            raise RequestValidationError(e.errors(include_url=False), body=body) from e
        store, producer = store_of(request), producer_of(request)
        secret = await store.org_secret(org.id)
        keyed = [(recipient_key(secret, person_of(e).email), e) for e in events]
        await store.upsert_recipients(org.id, {k: (person_of(e).email, person_of(e).name) for k, e in keyed})
        sends = []
        for key, event in keyed:
            envelope = CloudEvent(
                id=event.id,
                source=f"/orgs/{org.slug}",
                type=ACTIVITY_TYPES[event.type],
                subject=key,
                orgid=org.id,
                data=ActivityRecordValue(activity_from_api(event, key)),
            )
            sends.append(
                await producer.send(bus.ACTIVITY, key=f"{org.id}:{key}".encode(), value=bus.encode(envelope))
            )
        await asyncio.gather(*sends)
        return EventsAccepted(accepted=[e.id for e in events])

    @app.post("/v1/badge-classes", status_code=201, response_model=BadgeClassStored)
    async def post_badge_class(body: BadgeClassIn, request: Request, org: OrgDep) -> BadgeClassStored:
        badge = await store_of(request).save_badge_class(org.id, body)
        envelope = CloudEvent[BadgeClass](
            id=f"{org.id}:{badge.id}:{badge.version}",
            source=f"/orgs/{org.slug}",
            type=BADGE_CLASS_TYPE,
            subject=badge.id,
            orgid=org.id,
            data=badge,
        )
        await producer_of(request).send_and_wait(
            bus.BADGE_CLASSES, key=f"{org.id}:{badge.id}".encode(), value=bus.encode(envelope)
        )
        return BadgeClassStored(id=badge.id, version=badge.version)

    @app.get("/v1/badge-classes", response_model=list[BadgeClass])
    async def list_badge_classes(request: Request, org: OrgDep) -> list[BadgeClass]:
        return await store_of(request).badge_classes(org.id)

    @app.get("/v1/recipients/{email}/progress", response_model=RecipientProgress)
    async def recipient_progress(email: EmailStr, request: Request, org: OrgDep) -> RecipientProgress:
        """Where one volunteer stands toward each of this organisation's badges."""
        store = store_of(request)
        badges = await store.progress(org.id, recipient_key(await store.org_secret(org.id), email))
        if badges is None:
            raise HTTPException(404, "no activity recorded for this person")
        return RecipientProgress(email=email, badges=badges)

    @app.get("/v1/credentials", response_model=list[CredentialSummary])
    async def list_credentials(request: Request, org: OrgDep) -> list[CredentialSummary]:
        return [_summary(c) for c in await store_of(request).credentials(org.id)]

    @app.post(
        "/v1/credentials/{credential_uuid}/{action}",
        response_model=CredentialSummary,
        responses={
            404: {"description": "no such credential in this organisation"},
            409: {"description": "the change does not apply to the credential's status"},
        },
    )
    async def change_credential_status(
        credential_uuid: str, action: Action, body: StatusChangeIn, request: Request, org: OrgDep
    ) -> CredentialSummary:
        """Revoke (final), suspend, or unsuspend; the signed status lists change with it."""
        try:
            credential = await change_status(
                store_of(request),
                org,
                f"urn:uuid:{credential_uuid}",
                action,
                body.reason,
                settings.public_url,
            )
        except LookupError as e:
            raise HTTPException(404, "no such credential") from e
        except StatusChangeError as e:
            raise HTTPException(409, str(e)) from e
        return _summary(credential)

    @app.post("/v1/verify", response_model=VerificationResult)
    async def verify_api(request: Request) -> VerificationResult:
        """Verifies a credential (the JSON body): proof, issuer key, status, validity, shape."""
        credential = await _json_body(request)
        if not isinstance(credential, dict):
            raise RequestValidationError(
                [
                    {
                        "type": "dict_type",
                        "loc": ("body",),
                        "msg": "a credential must be a JSON object",
                        "input": None,
                    }
                ]
            )
        return _result(await verify(credential, fetcher(request)))

    @app.get("/orgs/{slug}/did.json")
    async def did_json(slug: str, request: Request) -> JSONResponse:
        document = await did_document_for(store_of(request), slug, settings.public_url)
        if document is None:
            raise HTTPException(404, "no such organisation")
        return JSONResponse(
            document, media_type="application/did+json", headers={"Cache-Control": "public, max-age=300"}
        )

    @app.get("/orgs/{slug}/status/{purpose}")
    async def status_list_json(slug: str, purpose: Purpose, request: Request) -> JSONResponse:
        """The signed BitstringStatusListCredential; verifiers may cache it for a minute."""
        org = await store_of(request).org_by_slug(slug)
        if org is None:
            raise HTTPException(404, "no such organisation")
        document = await status_list_document(store_of(request), org, purpose, settings.public_url)
        etag = '"' + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32] + '"'
        headers = {"Cache-Control": "public, max-age=60", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return JSONResponse(None, status_code=304, headers=headers)
        return JSONResponse(document, media_type="application/vc+ld+json", headers=headers)

    @app.get("/claim/{token}", response_class=HTMLResponse)
    async def claim_page(token: str, request: Request) -> HTMLResponse:
        credential = await store_of(request).claim(token)
        if credential is None:
            return templates.TemplateResponse(request, "claim_missing.html", status_code=404)
        return templates.TemplateResponse(
            request,
            "claim.html",
            {
                "credential": credential.document,
                "links": _credential_links(_uuid_of(credential.id)),
            },
        )

    async def stored_credential(credential_uuid: str, request: Request) -> t.Credential:
        credential = await store_of(request).credential(f"urn:uuid:{credential_uuid}")
        if credential is None:
            raise HTTPException(404, "no such credential")
        return credential

    @app.get("/credentials/{credential_uuid}.json")
    async def credential_json(credential_uuid: str, request: Request) -> JSONResponse:
        credential = await stored_credential(credential_uuid, request)
        return JSONResponse(
            credential.document,
            headers={"Content-Disposition": f'attachment; filename="badge-{credential_uuid}.json"'},
        )

    @app.get("/credentials/{credential_uuid}.png")
    async def credential_png(credential_uuid: str, request: Request) -> Response:
        """The badge image with the signed credential baked in (iTXt openbadgecredential)."""
        credential = await stored_credential(credential_uuid, request)
        return Response(
            bake_png(badge_png(), credential.document),
            media_type="image/png",
            headers={"Content-Disposition": f'attachment; filename="badge-{credential_uuid}.png"'},
        )

    @app.get("/credentials/{credential_uuid}.svg")
    async def credential_svg(credential_uuid: str, request: Request) -> Response:
        credential = await stored_credential(credential_uuid, request)
        return Response(
            bake_svg(badge_svg(credential.document.get("name", "Badge")), credential.document),
            media_type="image/svg+xml",
            headers={"Content-Disposition": f'attachment; filename="badge-{credential_uuid}.svg"'},
        )

    @app.get("/credentials/{credential_uuid}.jwt", responses={200: {"content": {"application/jwt": {}}}})
    async def credential_jwt(
        credential_uuid: str, request: Request, alg: vc_jwt.Algorithm = "RS256"
    ) -> Response:
        """The credential as a VC-JWT (RS256 or ES256), for verifiers that take JWTs only."""
        credential = await stored_credential(credential_uuid, request)
        org = await store_of(request).org(credential.org_id)
        assert org is not None
        key, thumbprint = await store_of(request).jwt_key(org.id, alg)
        kid = f"{org_did(settings.public_url, org.slug)}#{thumbprint}"
        return Response(
            vc_jwt.encode(credential.document, key, kid),
            media_type="application/jwt",
            headers={"Content-Disposition": f'attachment; filename="badge-{credential_uuid}.jwt"'},
        )

    @app.get("/credentials/{credential_uuid}", response_class=HTMLResponse)
    async def credential_page(credential_uuid: str, request: Request) -> HTMLResponse:
        """The public page a shared link opens: the badge and a live verification result."""
        credential = await stored_credential(credential_uuid, request)
        report = await verify(credential.document, fetcher(request))
        return templates.TemplateResponse(
            request,
            "credential.html",
            {
                "credential": credential.document,
                "report": report,
                "verdict": _verdict(report),
                "page_url": f"{settings.public_url}/credentials/{credential_uuid}",
                "links": _credential_links(credential_uuid),
            },
        )

    def openapi() -> dict[str, Any]:
        """FastAPI's document plus the event bodies, which the handler parses itself."""
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _, defs = models_json_schema(
                [(model, "validation") for model in EVENT_BODIES], ref_template="#/components/schemas/{model}"
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _keep_progress(settings: Settings, store: Store, stopping: asyncio.Event) -> None:
    """Keeps the store's progress views up to date from cairn.progress.v1 (at-least-once;
    the newest update per recipient wins, so redelivery is harmless)."""

    async def save(event: CloudEvent[ProgressUpdated]) -> None:
        await store.save_progress(event.data)

    await bus.consume_forever(
        settings.kafka_bootstrap, "cairn-gateway-progress", bus.PROGRESS, ProgressUpdated, save, stopping
    )


def _summary(credential: t.Credential) -> CredentialSummary:
    return CredentialSummary(
        id=credential.id,
        badge_class_id=credential.badge_class_id,
        issued_at=credential.issued_at,
        status=credential.status,
        status_reason=credential.status_reason,
    )


def _result(report: Report) -> VerificationResult:
    return VerificationResult(
        valid=report.valid,
        checks=[CheckResult(check=c.name, ok=c.ok, reason=c.reason) for c in report.checks],
    )


def _verdict(report: Report) -> str:
    """One word for the page: valid, revoked, suspended, expired, or invalid."""
    if report.valid:
        return "valid"
    for check in report.checks:
        if not check.ok and check.name == "status" and check.reason in ("revoked", "suspended"):
            return check.reason
        if not check.ok and check.name == "validity" and check.reason.startswith("expired"):
            return "expired"
    return "invalid"


def _credential_links(credential_uuid: str) -> dict[str, str]:
    base = f"/credentials/{credential_uuid}"
    return {
        "page": base,
        "json": f"{base}.json",
        "png": f"{base}.png",
        "svg": f"{base}.svg",
        "jwt": f"{base}.jwt",
    }


def _uuid_of(credential_id: str) -> str:
    return credential_id.removeprefix("urn:uuid:")


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except json.JSONDecodeError as e:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": f"invalid JSON: {e}", "input": None}]
        ) from e
