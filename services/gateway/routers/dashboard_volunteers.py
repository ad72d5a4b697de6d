"""The dashboard's volunteers: the list (searched, sorted and paged by the database, so it stays
fast with thousands of people) and each volunteer's own page, with their activity history,
progress per badge and credentials, and the actions on them (void, resend, suspend, revoke)."""

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from cairn.domain.records import ApiKeyInfo
from cairn.domain.volunteers import PAGE_SIZE, SORTS, VolunteerQuery, describe
from cairn.usecases.status_changes import StatusChangeError, change_status
from cairn.usecases.volunteers import CannotVoid, void_activity, volunteer_detail
from services.gateway.claim_resends import request_resend
from services.gateway.dependencies import PublisherDep, SettingsDep
from services.gateway.routers.dashboard import Desk, DeskDep, _reason

router = APIRouter(prefix="/dashboard/volunteers", include_in_schema=False)
SORT_NAMES = {"name": "Name", "recent": "Most recent activity", "closest": "Closest to a badge"}
NOTICES = {"void": "Activity {event} taken back; progress updates in a moment."}


@router.get("", response_class=HTMLResponse)
async def volunteers(desk: DeskDep, q: str = "", sort: str = "name", page: int = 1) -> HTMLResponse:
    key = await desk.signed_in()
    query = VolunteerQuery(
        search=q.strip()[:200],
        sort=sort if sort in SORTS else "name",  # type: ignore[arg-type]
        page=min(max(page, 1), 10**6),
        per_page=PAGE_SIZE,
    )
    found = await desk.store.volunteer_page(key.org.id, query)
    keys = [row.recipient_key for row in found.rows]
    progress = await desk.store.progress_of(key.org.id, keys)
    issued = await desk.store.credentials_of(key.org.id, keys)
    notifications = await desk.store.notifications([c.id for c in issued])
    emails: dict[str, list[dict[str, Any]]] = {}
    for credential in issued:  # each claim email with the SMTP server's answer, as `cairn trace` shows
        sent = notifications.get(credential.id)
        emails.setdefault(credential.recipient_key, []).append(
            {
                "badge": credential.badge_class_id,
                "name": credential.document.get("name", credential.badge_class_id),
                "status": sent.status if sent else "not sent yet",
                "answer": sent.last_error if sent else None,
            }
        )
    people = [
        {
            "key": row.recipient_key,
            "email": row.email,
            "name": row.name,
            "last_activity_at": row.last_activity_at,
            "badges": progress.get(row.recipient_key, []),
            "emails": emails.get(row.recipient_key, []),
        }
        for row in found.rows
    ]

    def link(**changes: Any) -> str:
        params = {"q": query.search, "sort": query.sort, "page": query.page, **changes}
        return "/dashboard/volunteers?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return desk.page(
        "dashboard_volunteers.html",
        key,
        people=people,
        found=found,
        query=query,
        sorts=SORT_NAMES,
        link=link,
    )


async def _detail_page(
    desk: Desk, key: ApiKeyInfo, recipient_key: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    detail = await volunteer_detail(desk.store, key.org, recipient_key)
    if detail is None:
        raise HTTPException(404, "no such volunteer")
    done = desk.request.query_params.get("done", "")
    notice = await desk.notice(key)
    if done == "void":
        notice = NOTICES["void"].format(event=desk.request.query_params.get("event", "")[:200])
    return desk.page(
        "dashboard_volunteer.html",
        key,
        status_code=status_code,
        detail=detail,
        describe=describe,
        notice=notice,
        **context,
    )


@router.get("/{recipient_key}", response_class=HTMLResponse)
async def volunteer(recipient_key: str, desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in()
    return await _detail_page(desk, key, recipient_key)


@router.post("/{recipient_key}/void", response_model=None)
async def void(
    recipient_key: str,
    desk: DeskDep,
    publisher: PublisherDep,
    token: Annotated[str, Form()],
    event_id: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Takes an activity back with a void event (as POST /v1/events would), after asking why."""
    key = await desk.checked_form("events:write", token)
    try:
        why = reason.strip()
        await void_activity(desk.store, publisher, key.org, recipient_key, event_id, why, desk.clock)
    except (CannotVoid, ValidationError) as e:
        problem = str(e) if isinstance(e, CannotVoid) else "say why it is taken back (one line)"
        return await _detail_page(desk, key, recipient_key, 422, void_error=problem, void_event=event_id)
    done = urlencode({"done": "void", "event": event_id})
    return RedirectResponse(f"/dashboard/volunteers/{recipient_key}?{done}", 303)


@router.post("/{recipient_key}/credentials/{credential_uuid}/{action}", response_model=None)
async def credential_action(
    recipient_key: str,
    credential_uuid: str,
    action: Literal["resend", "revoke", "suspend", "unsuspend"],
    desk: DeskDep,
    settings: SettingsDep,
    publisher: PublisherDep,
    token: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """The Issued page's actions, from the volunteer's page and back to it; a revocation needs
    its reason here too (kept with the badge and shown to its holder)."""
    key = await desk.checked_form("credentials:write", token)
    credential = await desk.own_credential(key, credential_uuid)
    if credential.recipient_key != recipient_key:
        raise HTTPException(404, "no such credential for this volunteer")
    if action == "resend":
        await request_resend(desk.store, publisher, credential)
    else:
        given, problem = _reason(action, reason)
        if problem:
            context = {"action_error": problem, "action_credential": credential.id}
            return await _detail_page(desk, key, recipient_key, 422, **context)
        try:
            await change_status(desk.store, key.org, credential.id, action, given, settings.public_url)
        except StatusChangeError as e:
            raise HTTPException(409, str(e)) from e
    done = urlencode({"done": action, "credential": credential_uuid})
    return RedirectResponse(f"/dashboard/volunteers/{recipient_key}?{done}", 303)
