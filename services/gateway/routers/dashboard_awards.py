"""Direct awards from the dashboard: a badge for one person or a pasted or uploaded list, with a
narrative. The same use case as POST /v1/badge-classes/{id}/awards; the form carries its own
idempotency key, so sending it twice (a double click, a reload) issues nothing more."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from cairn.domain.csv_import import decode_csv
from cairn.domain.recipient_list import parse_recipients
from cairn.usecases.direct_awards import KeyReused, NoSuchBadge, award_directly
from schemas.direct_awards import DirectAwardIn
from services.gateway.dependencies import PublisherDep
from services.gateway.routers.dashboard import DeskDep

router = APIRouter(prefix="/dashboard", include_in_schema=False)
MAX_LIST_BYTES = 1024 * 1024
PAGE = "dashboard_awards.html"


@router.get("/awards", response_class=HTMLResponse)
async def award_page(desk: DeskDep, badge: str | None = None) -> HTMLResponse:
    key = await desk.signed_in("credentials:write")
    badges = await desk.store.badge_classes(key.org.id)
    return desk.page(
        PAGE, key, badges=badges, chosen=badge, people="", narrative="", award_key=str(uuid.uuid4())
    )


@router.post("/awards", response_class=HTMLResponse)
async def award(
    desk: DeskDep,
    publisher: PublisherDep,
    token: Annotated[str, Form()],
    badge: Annotated[str, Form()],
    award_key: Annotated[str, Form()],
    narrative: Annotated[str, Form()] = "",
    people: Annotated[str, Form()] = "",
    file: UploadFile | None = None,
) -> HTMLResponse:
    """Every row checked first: with any row wrong, nothing is awarded and each error names its row."""
    key = await desk.checked_form("credentials:write", token)
    badges = await desk.store.badge_classes(key.org.id)
    page = {"badges": badges, "chosen": badge, "narrative": narrative, "award_key": award_key}
    errors: list[str] = []
    if file is not None and file.filename:
        data = await file.read(MAX_LIST_BYTES + 1)
        try:
            if len(data) > MAX_LIST_BYTES:
                raise ValueError("the file is over 1 MB; split it")
            people = decode_csv(data)
        except ValueError as e:
            errors.append(str(e))
    parsed = parse_recipients(people)
    errors += [f"Row {e.row}: {e.message}" for e in parsed.errors]
    if not errors and not parsed.recipients:
        errors.append("Name at least one person: a name and an email on each line.")
    body = None
    if not errors:
        try:
            body = DirectAwardIn(
                recipients=parsed.recipients,
                narrative=narrative.replace("\r\n", "\n"),
                idempotency_key=award_key,
            )
        except ValidationError as e:
            errors += [
                f"{'.'.join(map(str, x['loc'])) or 'form'}: {x['msg']}" for x in e.errors(include_url=False)
            ]
    if body is None:
        return desk.page(PAGE, key, people=people, errors=errors, status_code=422, **page)
    try:
        answer = await award_directly(desk.store, publisher, key.org, badge, body, desk.clock)
    except (NoSuchBadge, KeyReused) as e:
        message = "no such badge class" if isinstance(e, NoSuchBadge) else str(e)
        return desk.page(PAGE, key, people=people, errors=[message], status_code=422, **page)
    chosen = next(b for b in badges if b.id == badge)
    return desk.page(PAGE, key, people=people, answer=answer, badge_name=chosen.name, **page)
