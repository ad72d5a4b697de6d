"""An organisation itself: its creation by the platform admin (with CAIRN_ADMIN_TOKEN), and its
profile (name, colour, time zone and the like), with its logo (uploaded, or a URL)."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, UploadFile
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from cairn.domain.records import Org
from cairn.domain.svg_sanitise import UnsafeSvg, sanitise_svg
from cairn.ports import Store
from cairn.usecases.provisioning import OrgExists, create_organisation
from schemas.admin import OrgCreated, OrgCreateIn, OrgProfile, OrgProfileUpdate
from services.gateway.dependencies import OrgAdmin, Reader, SettingsDep, StoreDep, bearer
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)
LOGO = "_logo"  # kept beside the badge images, under an id no badge class can have (slugs start [a-z0-9])
MAX_LOGO_BYTES = 256 * 1024


async def platform_admin(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], settings: SettingsDep
) -> None:
    token = settings.admin_token
    if token is None or not token.get_secret_value():
        raise HTTPException(404, "the admin API is off (set CAIRN_ADMIN_TOKEN)")
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), token.get_secret_value().encode()
    ):
        raise HTTPException(401, "send Authorization: Bearer <CAIRN_ADMIN_TOKEN>")


@router.post(
    "/admin/v1/orgs", status_code=201, response_model=OrgCreated, dependencies=[Depends(platform_admin)]
)
async def create_org(body: OrgCreateIn, store: StoreDep) -> OrgCreated:
    """A new organisation, its issuer key and a first API key with every scope."""
    try:
        org, api_key = await create_organisation(store, body)
    except OrgExists as e:
        raise HTTPException(409, str(e)) from e
    return OrgCreated(id=org.id, slug=org.slug, api_key=api_key)


def _profile(org: Org) -> OrgProfile:
    return OrgProfile.model_validate(org, from_attributes=True)


@router.get("/v1/org", response_model=OrgProfile)
async def get_profile(org: Reader) -> OrgProfile:
    return _profile(org)


@router.patch("/v1/org", response_model=OrgProfile)
async def update_profile(body: OrgProfileUpdate, org: OrgAdmin, store: StoreDep) -> OrgProfile:
    changes = {k: (str(v) if v is not None else None) for k, v in body.model_dump(exclude_unset=True).items()}
    return _profile(await store.update_org_profile(org.id, changes))


class BadLogo(ValueError):
    """Not a PNG or a safe SVG, or too big."""


async def store_logo(store: Store, org: Org, data: bytes, public_url: str) -> Org:
    """Keeps an uploaded logo (a PNG, or an SVG cleaned as badge images are) and points the
    profile's image_url at where the gateway serves it; the API and the dashboard both use this."""
    if len(data) > MAX_LOGO_BYTES:
        raise BadLogo("the logo is over 256 KB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type, stored = "image/png", data
    else:
        try:
            content_type, stored = "image/svg+xml", sanitise_svg(data).encode()
        except (UnsafeSvg, UnicodeDecodeError) as e:
            raise BadLogo(f"the logo must be a PNG or an SVG: {e}") from e
    await store.set_badge_image(org.id, LOGO, content_type, stored)
    return await store.update_org_profile(org.id, {"image_url": f"{public_url}/orgs/{org.slug}/logo"})


@router.put("/v1/org/logo", response_model=OrgProfile, responses={422: {"description": "not a PNG or SVG"}})
async def upload_logo(file: UploadFile, org: OrgAdmin, store: StoreDep, settings: SettingsDep) -> OrgProfile:
    """A PNG or SVG of at most 256 KB; it becomes the profile's image_url (served at
    /orgs/{slug}/logo), shown in claim emails and as the issuer's image."""
    try:
        return _profile(
            await store_logo(store, org, await file.read(MAX_LOGO_BYTES + 1), settings.public_url)
        )
    except BadLogo as e:
        raise HTTPException(422, str(e)) from e


@router.get("/orgs/{slug}/logo", responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}})
async def logo(slug: str, store: StoreDep) -> Response:
    """The organisation's uploaded logo."""
    org = await store.org_by_slug(slug)
    uploaded = await store.badge_image(org.id, LOGO) if org else None
    if uploaded is None:
        raise HTTPException(404, "no logo uploaded")
    headers = {
        "Cache-Control": "public, max-age=300",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    return Response(uploaded.data, media_type=uploaded.content_type, headers=headers)
