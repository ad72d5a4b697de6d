"""Workshop check-in, the host's side: open a session of a series for check-in, show its QR code
(drawn here, with segno) and link, watch the list fill (the page polls), confirm check-ins in
"host confirms" mode, and remove a mistaken one (voided if it was posted)."""

from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from cairn.domain.records import ApiKeyInfo, CheckInSessionRecord
from cairn.usecases.check_in import confirm, open_session, remove, window
from schemas.check_in import CheckInSessionIn
from services.gateway.dependencies import PublisherDep, SettingsDep
from services.gateway.routers.dashboard import Desk, DeskDep

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SCOPE = "events:write"  # a check-in posts an event
WHEN = "%Y-%m-%d %H:%M"


def _local(text: str, zone: ZoneInfo) -> datetime:
    return datetime.strptime(text.strip(), WHEN).replace(tzinfo=zone)


async def _own_session(desk: Desk, key: ApiKeyInfo, session_id: str) -> CheckInSessionRecord:
    session = await desk.store.check_in_session(session_id)
    if session is None or session.org_id != key.org.id:
        raise HTTPException(404, "no such check-in session")
    return session


@router.get("/check-in", response_class=HTMLResponse)
async def sessions_page(desk: DeskDep, settings: SettingsDep) -> HTMLResponse:
    key = await desk.signed_in(SCOPE)
    zone = ZoneInfo(key.org.timezone)
    start = desk.clock.now().astimezone(zone).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    form = {"starts_at": start.strftime(WHEN), "ends_at": (start + timedelta(hours=2)).strftime(WHEN)}
    sessions = await desk.store.check_in_sessions(key.org.id)
    return desk.page(
        "dashboard_check_in_sessions.html",
        key,
        sessions=sessions,
        form=form,
        zone=zone,
        errors=[],
        settings=settings,
    )


@router.post("/check-in", response_model=None)
async def open_check_in(
    desk: DeskDep,
    settings: SettingsDep,
    token: Annotated[str, Form()],
    series: Annotated[str, Form()],
    session: Annotated[str, Form()],
    starts_at: Annotated[str, Form()],
    ends_at: Annotated[str, Form()],
    host_confirms: Annotated[str | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    key = await desk.checked_form(SCOPE, token)
    zone = ZoneInfo(key.org.timezone)
    form = {"series": series, "session": session, "starts_at": starts_at, "ends_at": ends_at}
    try:
        body = CheckInSessionIn(
            series=series.strip(),
            session=session.strip(),
            starts_at=_local(starts_at, zone),
            ends_at=_local(ends_at, zone),
            host_confirms=bool(host_confirms),
        )
    except ValueError as e:  # a ValidationError is one too
        errors = (
            [f"{'.'.join(map(str, x['loc'])) or 'times'}: {x['msg']}" for x in e.errors(include_url=False)]
            if isinstance(e, ValidationError)
            else [f"times: write them as {datetime(2026, 12, 1, 18, 0).strftime(WHEN)}"]
        )
        sessions = await desk.store.check_in_sessions(key.org.id)
        return desk.page(
            "dashboard_check_in_sessions.html",
            key,
            sessions=sessions,
            form=form,
            zone=zone,
            errors=errors,
            settings=settings,
            status_code=422,
        )
    opened = await open_session(desk.store, key.org, body, desk.clock)
    return RedirectResponse(f"/dashboard/check-in/{opened.id}", status_code=303)


async def _list_context(desk: Desk, key: ApiKeyInfo, session: CheckInSessionRecord) -> dict:
    people = []
    for held in await desk.store.check_ins(session.id):
        contact = await desk.store.recipient(key.org.id, held.recipient_key)
        people.append((held, contact))
    return {"session": session, "people": people, "zone": ZoneInfo(key.org.timezone)}


@router.get("/check-in/{session_id}", response_class=HTMLResponse)
async def session_page(session_id: str, desk: DeskDep, settings: SettingsDep) -> HTMLResponse:
    key = await desk.signed_in(SCOPE)
    session = await _own_session(desk, key, session_id)
    link = f"{settings.public_url}/check-in/{session.id}/{desk.store.check_in_code(session.id)}"
    qr = segno.make(link, error="m").svg_inline(scale=5, dark="#1d2a33")
    open_ = window(session, settings)
    return desk.page(
        "dashboard_check_in.html",
        key,
        link=link,
        qr=qr,
        window=open_,
        **await _list_context(desk, key, session),
    )


@router.get("/check-in/{session_id}/list", response_class=HTMLResponse)
async def session_list(session_id: str, desk: DeskDep) -> HTMLResponse:
    """The list alone, which the session page fetches every few seconds."""
    key = await desk.signed_in(SCOPE)
    session = await _own_session(desk, key, session_id)
    return desk.page("_check_in_list.html", key, **await _list_context(desk, key, session))


@router.post("/check-in/{session_id}/{check_in_id}/{action}")
async def check_in_action(
    session_id: str,
    check_in_id: str,
    action: Literal["confirm", "remove"],
    desk: DeskDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    token: Annotated[str, Form()],
) -> RedirectResponse:
    key = await desk.checked_form(SCOPE, token)
    act = confirm if action == "confirm" else remove
    try:
        await act(desk.store, publisher, key.org, session_id, check_in_id, settings, desk.clock)
    except LookupError as e:
        raise HTTPException(404, "no such check-in") from e
    return RedirectResponse(f"/dashboard/check-in/{session_id}", status_code=303)
