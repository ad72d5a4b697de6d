"""The dashboard's organisation settings: the profile (name, URL, logo, colour, contact email,
time zone) and the API keys (create with scopes, shown once; list; revoke). Each form is checked
by the API's own contract (OrgProfileUpdate, ApiKeyCreateIn) and needs the API's scope, org:admin."""

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cairn.domain.records import SCOPES, ApiKeyInfo
from schemas.admin import ApiKeyCreateIn, OrgProfileUpdate
from services.gateway.dependencies import SettingsDep
from services.gateway.routers.dashboard import Desk, DeskDep
from services.gateway.routers.org import MAX_LOGO_BYTES, BadLogo, store_logo

router = APIRouter(prefix="/dashboard/settings", include_in_schema=False)
PROFILE_FIELDS = ("name", "url", "email", "colour", "timezone")
CLEARABLE = {"url", "email"}


def _problems(error: ValidationError) -> dict[str, str]:
    """field -> what is wrong, as the API's 422 would say it."""
    return {str(e["loc"][0]) if e["loc"] else "form": str(e["msg"]) for e in error.errors()}


async def _page(desk: Desk, key: ApiKeyInfo, status_code: int = 200, **context: Any) -> HTMLResponse:
    org = await desk.store.org(key.org.id)
    assert org is not None
    keys = await desk.store.api_keys(org.id)
    base = {"profile": org, "values": {}, "problems": {}, "new_key": None, "key_problems": {}}
    return desk.page(
        "dashboard_settings.html",
        key,
        status_code=status_code,
        **{**base, **context},
        keys=sorted(keys, key=lambda k: (k.revoked_at is not None, k.created_at), reverse=False),
        scopes=sorted(SCOPES.items()),
        zones=sorted(available_timezones()),
    )


@router.get("", response_class=HTMLResponse)
async def settings_page(desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in("org:admin")
    saved = desk.request.query_params.get("saved")
    notice = {"profile": "Profile saved.", "logo": "Logo saved.", "revoked": "Key revoked."}.get(saved or "")
    return await _page(desk, key, notice=notice)


@router.post("/profile", response_model=None)
async def save_profile(request: Request, desk: DeskDep, token: Annotated[str, Form()]) -> Response:
    """The PATCH /v1/org body from the form: a cleared URL or email is removed (null)."""
    key = await desk.checked_form("org:admin", token)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in PROFILE_FIELDS}
    body = {k: (v or None) for k, v in values.items() if v or k in CLEARABLE}
    try:
        changes = OrgProfileUpdate.model_validate(body).model_dump(exclude_unset=True)
    except ValidationError as e:
        return await _page(desk, key, 422, values=values, problems=_problems(e))
    await desk.store.update_org_profile(
        key.org.id, {k: str(v) if v is not None else None for k, v in changes.items()}
    )
    return RedirectResponse("/dashboard/settings?saved=profile", 303)


@router.post("/logo", response_model=None)
async def save_logo(
    desk: DeskDep, settings: SettingsDep, token: Annotated[str, Form()], logo: UploadFile
) -> Response:
    key = await desk.checked_form("org:admin", token)
    try:
        await store_logo(desk.store, key.org, await logo.read(MAX_LOGO_BYTES + 1), settings.public_url)
    except BadLogo as e:
        return await _page(desk, key, 422, problems={"logo": str(e)})
    return RedirectResponse("/dashboard/settings?saved=logo", 303)


@router.post("/keys", response_class=HTMLResponse)
async def create_key(request: Request, desk: DeskDep, token: Annotated[str, Form()]) -> HTMLResponse:
    """The new key is on this answer only (as POST /v1/api-keys); Cairn keeps its hash."""
    key = await desk.checked_form("org:admin", token)
    form = await request.form()
    body = {"name": str(form.get("key_name", "")).strip(), "scopes": [str(s) for s in form.getlist("scopes")]}
    try:
        wanted = ApiKeyCreateIn.model_validate(body)
    except ValidationError as e:
        return await _page(desk, key, 422, key_problems=_problems(e), key_values=body)
    key_id, secret = await desk.store.create_api_key(key.org.id, wanted.name, set(wanted.scopes))
    return await _page(desk, key, 201, new_key={"id": key_id, "name": wanted.name, "key": secret})


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, desk: DeskDep, token: Annotated[str, Form()]) -> RedirectResponse:
    key = await desk.checked_form("org:admin", token)
    if not await desk.store.revoke_api_key(key.org.id, key_id):
        raise HTTPException(404, "no such API key")
    return RedirectResponse("/dashboard/settings?saved=revoked", 303)
