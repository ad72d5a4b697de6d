"""Running an organisation: its creation by the platform admin, its profile and API keys, CSV
uploads, badge images, and a person's data (export, erasure)."""

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import EmailStr

from cairn.domain.badge_images import badge_svg
from cairn.domain.csv_import import decode_csv, parse_csv
from cairn.domain.records import ApiKeyInfo, Org
from cairn.domain.svg_sanitise import UnsafeSvg, sanitise_svg
from cairn.usecases.intake import accept_events, activity_window
from cairn.usecases.provisioning import OrgExists, create_organisation
from schemas.admin import (
    ApiKeyCreated,
    ApiKeyCreateIn,
    ApiKeyOut,
    CsvImportResult,
    CsvRowError,
    OrgCreated,
    OrgCreateIn,
    OrgProfile,
    OrgProfileUpdate,
    PersonExport,
)
from services.gateway.dependencies import (
    BadgeWriter,
    EventWriter,
    OrgAdmin,
    Reader,
    bearer,
    publisher_of,
    settings_of,
    store_of,
)

router = APIRouter()
MAX_IMAGE_BYTES = 256 * 1024
MAX_CSV_BYTES = 5 * 1024 * 1024
PREVIEW_EVENTS = 20


async def platform_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    token = settings_of(request).admin_token
    if token is None or not token.get_secret_value():
        raise HTTPException(404, "the admin API is off (set CAIRN_ADMIN_TOKEN)")
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), token.get_secret_value().encode()
    ):
        raise HTTPException(401, "send Authorization: Bearer <CAIRN_ADMIN_TOKEN>")


@router.post(
    "/admin/v1/orgs", status_code=201, response_model=OrgCreated, dependencies=[Depends(platform_admin)]
)
async def create_org(body: OrgCreateIn, request: Request) -> OrgCreated:
    """A new organisation, its issuer key and a first API key with every scope."""
    try:
        org, api_key = await create_organisation(store_of(request), body)
    except OrgExists as e:
        raise HTTPException(409, str(e)) from e
    return OrgCreated(id=org.id, slug=org.slug, api_key=api_key)


def _profile(org: Org) -> OrgProfile:
    return OrgProfile.model_validate(org, from_attributes=True)


@router.get("/v1/org", response_model=OrgProfile)
async def get_profile(org: Reader) -> OrgProfile:
    return _profile(org)


@router.patch("/v1/org", response_model=OrgProfile)
async def update_profile(body: OrgProfileUpdate, request: Request, org: OrgAdmin) -> OrgProfile:
    changes = {k: (str(v) if v is not None else None) for k, v in body.model_dump(exclude_unset=True).items()}
    return _profile(await store_of(request).update_org_profile(org.id, changes))


def _key_out(key: ApiKeyInfo) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.get("/v1/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(request: Request, org: OrgAdmin) -> list[ApiKeyOut]:
    return [_key_out(k) for k in await store_of(request).api_keys(org.id)]


@router.post("/v1/api-keys", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreateIn, request: Request, org: OrgAdmin) -> ApiKeyCreated:
    """The key is in this answer only; Cairn keeps just its hash."""
    store = store_of(request)
    _, key = await store.create_api_key(org.id, body.name, set(body.scopes))
    info = await store.api_key(key)
    assert info is not None
    return ApiKeyCreated(**_key_out(info).model_dump(), key=key)


@router.delete("/v1/api-keys/{key_id}", status_code=204)
async def revoke_api_key(key_id: str, request: Request, org: OrgAdmin) -> Response:
    if not await store_of(request).revoke_api_key(org.id, key_id):
        raise HTTPException(404, "no such API key")
    return Response(status_code=204)


@router.post("/v1/events/csv", response_model=CsvImportResult, responses={422: {"description": "row errors"}})
async def upload_csv(
    file: UploadFile,
    request: Request,
    org: EventWriter,
    dry_run: bool = False,
    timezone: str = "UTC",
    date_order: Literal["dmy", "mdy"] = "dmy",
    mapping: Annotated[
        list[str] | None, Query(description="field=Column, e.g. email=Contact; overrides the header guess")
    ] = None,
) -> CsvImportResult:
    """A rota or sign-in sheet export. With dry_run, a preview and every row's errors; without,
    all rows are posted, or none if any row is wrong (422 lists them)."""
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the file is over {MAX_CSV_BYTES // (1024 * 1024)} MB; split it")
    try:
        fields = dict(item.split("=", 1) for item in mapping or [])
        window = activity_window(settings_of(request))
        parsed = parse_csv(decode_csv(data), fields, timezone, date_order, window)
    except ValueError as e:
        raise HTTPException(422, str(e)) from e
    result = CsvImportResult(
        dry_run=dry_run,
        kind=parsed.kind,
        columns=parsed.columns,
        rows=len(parsed.events),
        errors=[CsvRowError(row=e.row, column=e.column, message=e.message) for e in parsed.errors],
        accepted=[],
        preview=[event.model_dump(mode="json") for _, event in parsed.events[:PREVIEW_EVENTS]],
    )
    if dry_run:
        return result
    if parsed.errors or not parsed.events:
        raise HTTPException(422, result.model_dump(mode="json"))
    events = [event for _, event in parsed.events]
    result.accepted = await accept_events(store_of(request), publisher_of(request), org, events)
    return result


@router.put("/v1/badge-classes/{badge_id}/image", status_code=204)
async def upload_badge_image(badge_id: str, file: UploadFile, request: Request, org: BadgeWriter) -> Response:
    """A PNG or SVG of at most 256 KB; SVGs are cleaned of scripts and external references."""
    store = store_of(request)
    if await store.badge_class(org.id, badge_id) is None:
        raise HTTPException(404, "no such badge class")
    data = await file.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise HTTPException(413, "the image is over 256 KB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type, stored = "image/png", data
    else:
        try:
            content_type, stored = "image/svg+xml", sanitise_svg(data).encode()
        except (UnsafeSvg, UnicodeDecodeError) as e:
            raise HTTPException(422, f"the image must be a PNG or an SVG: {e}") from e
    await store.set_badge_image(org.id, badge_id, content_type, stored)
    return Response(status_code=204)


@router.get("/orgs/{slug}/badges/{badge_id}/image", responses={200: {"content": {"image/svg+xml": {}}}})
async def badge_image(slug: str, badge_id: str, request: Request) -> Response:
    """The uploaded image, or one drawn in the organisation's colour."""
    store = store_of(request)
    org = await store.org_by_slug(slug)
    badge = await store.badge_class(org.id, badge_id) if org else None
    if org is None or badge is None:
        raise HTTPException(404, "no such badge")
    uploaded = await store.badge_image(org.id, badge_id)
    headers = {
        "Cache-Control": "public, max-age=300",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    if uploaded is not None:
        return Response(uploaded.data, media_type=uploaded.content_type, headers=headers)
    return Response(badge_svg(badge.name, org.colour), media_type="image/svg+xml", headers=headers)


@router.get("/v1/recipients/{email}/export", response_model=PersonExport)
async def export_person(email: EmailStr, request: Request, org: OrgAdmin) -> PersonExport:
    """Everything this organisation holds about the person (for a subject access request)."""
    store = store_of(request)
    exported = await store.person_export(org.id, await store.recipient_key_of(org.id, email))
    if exported is None:
        raise HTTPException(404, "no such person")
    return PersonExport.model_validate(exported)


@router.delete("/v1/recipients/{email}", status_code=204)
async def erase_person(email: EmailStr, request: Request, org: OrgAdmin) -> Response:
    """Erases the contact details; the person's credentials stay valid but no email leads to them."""
    store = store_of(request)
    if not await store.erase_person(org.id, await store.recipient_key_of(org.id, email)):
        raise HTTPException(404, "no such person")
    return Response(status_code=204)
