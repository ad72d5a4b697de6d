"""Workshop check-in, the attendee's side: the signed link from the host's QR code opens a form
for name and email, while the session is open; each check-in goes through intake like an event
posted to the API. Rate-limited per client address."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from cairn.usecases.check_in import CheckInRefused, check_in, open_session_for_link
from schemas.check_in import CheckInIn
from services.gateway.dependencies import (
    ClientAddress,
    ClockDep,
    LimitsDep,
    MissCounter,
    PublisherDep,
    SettingsDep,
    StoreDep,
    rate_limit,
    templates,
)

router = APIRouter(include_in_schema=False)
PAGE = "check_in.html"


def _refused(request: Request, reason: str, count_miss: MissCounter) -> HTMLResponse:
    """A link that names no session counts as a miss against the address, like a claim link."""
    if reason == "unknown":
        count_miss()
    status = 404 if reason == "unknown" else 403
    return templates.TemplateResponse(request, PAGE, {"refused": reason, "session": None}, status_code=status)


@router.get("/check-in/{session_id}/{code}", response_class=HTMLResponse)
async def check_in_form(
    request: Request,
    session_id: str,
    code: str,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    count_miss: MissCounter,
) -> HTMLResponse:
    try:
        session = await open_session_for_link(store, session_id, code, settings, clock)
    except CheckInRefused as e:
        return _refused(request, e.reason, count_miss)
    return templates.TemplateResponse(request, PAGE, {"session": session, "errors": [], "form": {}})


@router.post("/check-in/{session_id}/{code}", response_class=HTMLResponse)
async def check_in_post(
    request: Request,
    session_id: str,
    code: str,
    name: Annotated[str, Form()],
    email: Annotated[str, Form()],
    store: StoreDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    clock: ClockDep,
    limits: LimitsDep,
    address: ClientAddress,
    count_miss: MissCounter,
) -> HTMLResponse:
    rate_limit(limits.check_ins, address)
    form = {"name": name, "email": email}
    try:
        session = await open_session_for_link(store, session_id, code, settings, clock)
        person = CheckInIn(name=name.strip(), email=email.strip())
    except CheckInRefused as e:
        return _refused(request, e.reason, count_miss)
    except ValidationError as e:
        fields = sorted({str(error["loc"][0]) for error in e.errors(include_url=False)})
        context = {"session": session, "errors": fields, "form": form}
        return templates.TemplateResponse(request, PAGE, context, status_code=422)
    try:
        done = await check_in(store, publisher, session_id, code, person, settings, clock)
    except CheckInRefused as e:  # closed in between
        return _refused(request, e.reason, count_miss)
    if done.status == "removed":
        raise HTTPException(409, "the host removed this check-in")
    return templates.TemplateResponse(request, PAGE, {"session": session, "done": done, "person": person})
