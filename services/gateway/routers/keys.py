"""An organisation's API keys: listing, creating (the key is shown once) and revoking them."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from cairn.domain.records import ApiKeyInfo
from schemas.admin import ApiKeyCreated, ApiKeyCreateIn, ApiKeyOut
from services.gateway.dependencies import OrgAdmin, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(prefix="/v1/api-keys", route_class=ParsedOnceRoute)


def _key_out(key: ApiKeyInfo) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.get("", response_model=list[ApiKeyOut])
async def list_api_keys(org: OrgAdmin, store: StoreDep) -> list[ApiKeyOut]:
    return [_key_out(k) for k in await store.api_keys(org.id)]


@router.post("", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreateIn, org: OrgAdmin, store: StoreDep) -> ApiKeyCreated:
    """The key is in this answer only; Cairn keeps just its hash."""
    _, key = await store.create_api_key(org.id, body.name, set(body.scopes))
    info = await store.api_key(key)
    assert info is not None
    return ApiKeyCreated(**_key_out(info).model_dump(), key=key)


@router.delete("/{key_id}", status_code=204)
async def revoke_api_key(key_id: str, org: OrgAdmin, store: StoreDep) -> Response:
    if not await store.revoke_api_key(org.id, key_id):
        raise HTTPException(404, "no such API key")
    return Response(status_code=204)
