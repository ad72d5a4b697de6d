"""One person in an organisation: where they stand toward its badges, everything held about
them (a subject access request), and erasing their contact details."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import EmailStr

from schemas.admin import PersonExport, RecipientProgress
from services.gateway.dependencies import OrgAdmin, Reader, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)


@router.get("/v1/recipients/{email}/progress", response_model=RecipientProgress)
async def recipient_progress(email: EmailStr, org: Reader, store: StoreDep) -> RecipientProgress:
    """Where one volunteer stands toward each of this organisation's badges."""
    progress = await store.progress(org.id, await store.recipient_key_of(org.id, email))
    if progress is None:
        raise HTTPException(404, "no activity recorded for this person")
    return RecipientProgress(email=email, badges=progress.badges, pending_voids=progress.pending_voids)


@router.get("/v1/recipients/{email}/export", response_model=PersonExport)
async def export_person(email: EmailStr, org: OrgAdmin, store: StoreDep) -> PersonExport:
    """Everything this organisation holds about the person (for a subject access request)."""
    exported = await store.person_export(org.id, await store.recipient_key_of(org.id, email))
    if exported is None:
        raise HTTPException(404, "no such person")
    return PersonExport.model_validate(exported)


@router.delete("/v1/recipients/{email}", status_code=204)
async def erase_person(email: EmailStr, org: OrgAdmin, store: StoreDep) -> Response:
    """Erases the contact details; the person's credentials stay valid but no email leads to them."""
    if not await store.erase_person(org.id, await store.recipient_key_of(org.id, email)):
        raise HTTPException(404, "no such person")
    return Response(status_code=204)
