"""Award questions: awards whose criteria no longer hold since an activity was voided. Nothing
is revoked by itself; the organisation keeps the badge, or revokes its credential."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from cairn.adapters.store import Store
from cairn.domain.volunteers import describe, void_behind
from schemas.admin import AwardQuestionOut
from schemas.awards import credential_id_for
from services.gateway.dependencies import CredentialWriter, Reader, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)


@router.get("/v1/award-questions", response_model=list[AwardQuestionOut])
async def list_award_questions(org: Reader, store: StoreDep) -> list[AwardQuestionOut]:
    """Awards whose criteria no longer hold since an activity was voided, oldest first."""
    return await award_questions(store, org.id)


@router.post(
    "/v1/award-questions/{award_id}/keep",
    status_code=204,
    responses={404: {"description": "no such question"}},
)
async def keep_award(award_id: str, org: CredentialWriter, store: StoreDep) -> Response:
    """Decides to keep the badge; to withdraw it, revoke its credential (which decides too)."""
    if not await store.decide_question(org.id, award_id, "kept"):
        raise HTTPException(404, "no such question")
    return Response(status_code=204)


async def award_questions(store: Store, org_id: str) -> list[AwardQuestionOut]:
    """The questions with what the organisation needs to decide: who, which badge, why, and the
    credential's status now (a revoked credential decided the question)."""
    contacts = {p.recipient_key: p.email for p in await store.recipients(org_id)}
    names = {b.id: b.name for b in await store.badge_classes(org_id)}
    out = []
    for question in await store.questions(org_id):
        credential = await store.credential(credential_id_for(question.award_id))
        history = await store.activity_history(org_id, question.recipient_key)
        voided = void_behind(history, question.questioned_at)
        out.append(
            AwardQuestionOut(
                award_id=question.award_id,
                credential_id=credential_id_for(question.award_id),
                badge_class_id=question.badge_class_id,
                email=contacts.get(question.recipient_key),
                reason=question.reason,
                evidence=question.evidence,
                questioned_at=question.questioned_at,
                credential_status=credential.status if credential else None,
                decision=question.decision
                or ("revoked" if credential and credential.status == "revoked" else None),
                badge_name=names.get(question.badge_class_id),
                voided_activity_id=voided.event_id if voided else None,
                voided_activity=describe(voided) if voided and voided.kind != "unknown" else None,
                void_reason=voided.void_reason if voided else None,
            )
        )
    return out
