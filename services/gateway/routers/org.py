"""An organisation itself: its creation by the platform admin (with CAIRN_ADMIN_TOKEN), and its
profile (name, colour, time zone and the like)."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials

from cairn.domain.records import Org
from cairn.usecases.provisioning import OrgExists, create_organisation
from schemas.admin import OrgCreated, OrgCreateIn, OrgProfile, OrgProfileUpdate
from services.gateway.dependencies import OrgAdmin, Reader, SettingsDep, StoreDep, bearer
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)


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
