"""The coordinators' dashboard: server-rendered pages over the same store and rules as the API.

Sign-in is with an API key; the session cookie holds the key's id and a MAC (never the key),
is HttpOnly and SameSite=Strict, and every form carries a token derived from the session. A
page or button needs the same scope as the API route it stands for.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cairn.adapters.store import Store
from cairn.domain.csv_import import SYNONYMS, decode_csv, parse_csv
from cairn.domain.records import ApiKeyInfo, CredentialRecord
from cairn.domain.volunteers import BadgeStats
from cairn.ports import Clock
from cairn.usecases.intake import accept_events, activity_window
from cairn.usecases.status_changes import StatusChangeError, change_status
from schemas.admin import StatusChangeIn
from schemas.awards import credential_id_from
from services.gateway.claim_resends import request_resend
from services.gateway.dependencies import (
    ClockDep,
    Limits,
    LimitsDep,
    MissCounter,
    PublisherDep,
    SettingsDep,
    StoreDep,
    admit,
    templates,
)
from services.gateway.routers.credentials import summary
from services.gateway.routers.events import MAX_CSV_BYTES
from services.gateway.routers.questions import award_questions

router = APIRouter(prefix="/dashboard", include_in_schema=False)
Back = Literal["credentials", "questions"]  # the page an action returns to
COOKIE = "cairn_session"
SESSION_SECONDS = 12 * 3600


@dataclass
class Desk:
    """One dashboard request with what its pages need: the session cookie is checked against
    the store, the key's scope and rate limit against the limits, its age against the clock."""

    request: Request
    store: Store
    limits: Limits
    clock: Clock

    async def session(self) -> ApiKeyInfo | None:
        value = self.request.cookies.get(COOKIE, "")
        key_id, _, rest = value.partition(".")
        issued, _, mac = rest.partition(".")
        if not (key_id and issued.isdigit() and mac) or mac != self.store.session_mac(f"{key_id}.{issued}"):
            return None
        if self.clock.now().timestamp() - int(issued) > SESSION_SECONDS:
            return None
        return await self.store.api_key_by_id(key_id)  # a revoked key ends its sessions

    async def signed_in(self, scope: str = "read") -> ApiKeyInfo:
        key = await self.session()
        if key is None:
            raise HTTPException(303, headers={"Location": "/dashboard/sign-in"})
        admit(self.limits, key, scope)
        return key

    def form_token(self) -> str:
        return self.store.session_mac(f"form:{self.request.cookies.get(COOKIE, '')}")[:32]

    async def checked_form(self, scope: str, token: str) -> ApiKeyInfo:
        key = await self.signed_in(scope)
        if token != self.form_token():
            raise HTTPException(403, "the form is stale; reload the page")
        return key

    def page(self, name: str, key: ApiKeyInfo, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A dashboard page; `can` is the key's scopes, so a page offers only what the key may do."""
        base = {"org": key.org, "key": key, "can": key.scopes, "form_token": self.form_token()}
        return templates.TemplateResponse(self.request, name, {**base, **context}, status_code=status_code)

    async def earner(self, key: ApiKeyInfo, credential: CredentialRecord) -> str:
        person = await self.store.recipient(key.org.id, credential.recipient_key)
        return (person.name or person.email) if person else "(erased)"

    async def notice(self, key: ApiKeyInfo) -> str | None:
        """What the last action did (?done=ACTION&credential=UUID after its redirect): only fixed
        wording about the organisation's own credentials, so a crafted link cannot put words here."""
        template = NOTICES.get(self.request.query_params.get("done", ""))
        credential_uuid = self.request.query_params.get("credential", "")
        credential = await self.store.credential(credential_id_from(credential_uuid)) if template else None
        if template is None or credential is None or credential.org_id != key.org.id:
            return None
        earner = await self.earner(key, credential)
        return template.format(badge=credential.document.get("name", "badge"), earner=earner)

    async def own_credential(self, key: ApiKeyInfo, credential_uuid: str) -> CredentialRecord:
        credential = await self.store.credential(credential_id_from(credential_uuid))
        if credential is None or credential.org_id != key.org.id:
            raise HTTPException(404, "no such credential")
        return credential


def get_desk(request: Request, store: StoreDep, limits: LimitsDep, clock: ClockDep) -> Desk:
    return Desk(request, store, limits, clock)


DeskDep = Annotated[Desk, Depends(get_desk)]


NOTICES = {
    "resend": "Claim email sent again to {earner} for “{badge}”, with a new link; the earlier link "
    "no longer works.",
    "revoke": "Revoked “{badge}” of {earner}.",
    "suspend": "Suspended “{badge}” of {earner}.",
    "unsuspend": "“{badge}” of {earner} is active again.",
}


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "dashboard_sign_in.html", {"error": None})


@router.post("/sign-in", response_model=None)
async def sign_in(
    request: Request,
    api_key: Annotated[str, Form()],
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    count_miss: MissCounter,
) -> Response:
    key = await store.api_key(api_key.strip())
    if key is None:
        count_miss()
    if key is None or "read" not in key.scopes:
        return templates.TemplateResponse(
            request, "dashboard_sign_in.html", {"error": "That key is unknown, revoked, or cannot read."}, 401
        )
    issued = str(int(clock.now().timestamp()))
    value = f"{key.id}.{issued}.{store.session_mac(f'{key.id}.{issued}')}"
    response = RedirectResponse("/dashboard", status_code=303)
    secure = settings.public_url.startswith("https://")
    response.set_cookie(
        COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="strict", secure=secure
    )
    return response


@router.post("/sign-out")
async def sign_out() -> RedirectResponse:
    response = RedirectResponse("/dashboard/sign-in", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("", response_class=HTMLResponse)
async def overview(desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in()
    badges = await desk.store.badge_classes(key.org.id)
    stats = await desk.store.badge_stats(key.org.id)  # revoked credentials are not counted as awarded
    counts = {b.id: stats.get(b.id, BadgeStats()) for b in badges}
    return desk.page("dashboard_overview.html", key, badges=badges, counts=counts)


@router.get("/credentials", response_class=HTMLResponse)
async def credentials(desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in()
    store = desk.store
    contacts = {p.recipient_key: p for p in await store.recipients(key.org.id)}
    issued = list(reversed(await store.credentials(key.org.id)))
    notifications = await store.notifications([c.id for c in issued])
    rows = []
    for credential in issued:
        contact = contacts.get(credential.recipient_key)
        listed = summary(credential, notifications.get(credential.id))
        rows.append(
            {
                "credential": credential,
                "uuid": credential.id.removeprefix("urn:uuid:"),
                "earner": (contact.name or contact.email) if contact else "(erased)",
                "email_status": listed.email_status,
                "email_error": listed.email_error,
            }
        )
    return desk.page("dashboard_credentials.html", key, rows=rows, notice=await desk.notice(key))


@router.get("/credentials/{credential_uuid}/revoke", response_class=HTMLResponse)
async def confirm_revoke(
    credential_uuid: str, desk: DeskDep, back: Back = "credentials", reason: str = ""
) -> HTMLResponse:
    """Revoking cannot be undone, so it is a page of its own that asks why (works without JS)."""
    key = await desk.signed_in("credentials:write")
    credential = await desk.own_credential(key, credential_uuid)
    return await _revoke_page(desk, key, credential, back, reason)


async def _revoke_page(
    desk: Desk,
    key: ApiKeyInfo,
    credential: CredentialRecord,
    back: str,
    reason: str,
    error: str | None = None,
) -> HTMLResponse:
    return desk.page(
        "dashboard_revoke.html",
        key,
        status_code=422 if error else 200,
        credential=credential,
        earner=await desk.earner(key, credential),
        uuid=credential.id.removeprefix("urn:uuid:"),
        back=back,
        reason=reason,
        error=error,
    )


def _reason(action: str, text: str) -> tuple[str | None, str | None]:
    """The reason as the API takes it (StatusChangeIn), or what is wrong with it. Revoking from
    the dashboard needs one: it is kept with the badge and shown to its holder."""
    try:
        given = StatusChangeIn(reason=text.strip() or None).reason
    except ValidationError as e:
        return None, str(e.errors()[0]["msg"])
    if action == "revoke" and not given:
        return None, "say why the badge is revoked; the reason is kept with it"
    return given, None


@router.post("/credentials/{credential_uuid}/{action}", response_model=None)
async def credential_action(
    credential_uuid: str,
    action: Literal["resend", "revoke", "suspend", "unsuspend"],
    request: Request,
    desk: DeskDep,
    settings: SettingsDep,
    publisher: PublisherDep,
    token: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    back: Annotated[Back, Form()] = "credentials",
) -> Response:
    key = await desk.checked_form("credentials:write", token)
    credential = await desk.own_credential(key, credential_uuid)
    if action == "resend":
        await request_resend(desk.store, publisher, credential)
    else:
        given, problem = _reason(action, reason)
        if problem and action == "revoke":
            return await _revoke_page(desk, key, credential, back, reason, error=problem)
        if problem:
            raise HTTPException(422, f"reason: {problem}")
        try:
            await change_status(
                desk.store, key.org, credential.id, action, given, settings.public_url, publisher=publisher
            )
        except StatusChangeError as e:
            raise HTTPException(409, str(e)) from e
    done = urlencode({"done": action, "credential": credential_uuid})
    return RedirectResponse(f"/dashboard/{back}?{done}", 303)


@router.get("/questions", response_class=HTMLResponse)
async def questions(desk: DeskDep) -> HTMLResponse:
    """Awards a void undid: nothing was revoked; the coordinator keeps or revokes each."""
    key = await desk.signed_in()
    return desk.page(
        "dashboard_questions.html",
        key,
        questions=await award_questions(desk.store, key.org.id),
        notice=await desk.notice(key),
    )


@router.post("/questions/{award_id}/keep")
async def keep_question(award_id: str, desk: DeskDep, token: Annotated[str, Form()]) -> RedirectResponse:
    key = await desk.checked_form("credentials:write", token)
    if not await desk.store.decide_question(key.org.id, award_id, "kept"):
        raise HTTPException(404, "no such question")
    return RedirectResponse("/dashboard/questions", status_code=303)


@router.get("/upload", response_class=HTMLResponse)
async def upload_page(desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in("events:write")
    return desk.page("dashboard_upload.html", key, result=None, csv_text=None)


@router.post("/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    desk: DeskDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    token: Annotated[str, Form()],
    file: UploadFile | None = None,
    csv_text: Annotated[str | None, Form()] = None,
    timezone: Annotated[str, Form()] = "UTC",
    date_order: Annotated[str, Form()] = "dmy",
    confirm: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """First a preview of the file (nothing posted), with the columns Cairn read, which the
    coordinator may change (`map_<field>` = a column, the API's `mapping`); then, on confirm,
    every row, or none. A file that cannot be read answers 422 with the API's message."""
    key = await desk.checked_form("events:write", token)
    form = await request.form()
    mapping = {
        name.removeprefix("map_"): value
        for name, value in form.items()
        if name.startswith("map_") and isinstance(value, str) and value
    }
    order: Literal["dmy", "mdy"] = "mdy" if date_order == "mdy" else "dmy"
    try:
        if csv_text is None and file is not None:
            data = await file.read(MAX_CSV_BYTES + 1)
            if len(data) > MAX_CSV_BYTES:
                raise ValueError(f"the file is over {MAX_CSV_BYTES // (1024 * 1024)} MB; split it")
            csv_text = decode_csv(data)
        text = csv_text or ""
        parsed = parse_csv(text, mapping, timezone, order, activity_window(settings))
    except ValueError as e:
        return desk.page(
            "dashboard_upload.html", key, result=None, csv_text=None, error=str(e), status_code=422
        )
    posted: list[str] = []
    if confirm and not parsed.errors and parsed.events:
        events = [event for _, event in parsed.events]
        posted = await accept_events(desk.store, publisher, key.org, events)
    return desk.page(
        "dashboard_upload.html",
        key,
        result=parsed,
        fields=list(SYNONYMS),
        posted=posted,
        csv_text=text,
        timezone=timezone,
        date_order=order,
    )
