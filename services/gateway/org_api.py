"""The organisation API (/v1/...): events in, badge classes, progress, credentials.

Every route takes the organisation from the API key and touches only that organisation's
records; another organisation's ids answer 404, as if they did not exist.
"""

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import EmailStr, TypeAdapter, ValidationError

from cairn.adapters.kafka import bus
from cairn.adapters.store import Store
from cairn.adapters.store import tables as t
from cairn.usecases.intake import accept_events, intake_context
from cairn.usecases.status_changes import Action, StatusChangeError, change_status
from schemas.activity import (
    ActivityIn,
    EventBatchIn,
    EventsAccepted,
)
from schemas.admin import (
    AwardQuestionOut,
    BadgeClassStored,
    CredentialSummary,
    RecipientProgress,
    ResendAccepted,
    StatusChangeIn,
)
from schemas.awards import credential_id_for, credential_id_from
from schemas.badge_class import BadgeClass, BadgeClassIn
from schemas.envelope import BADGE_CLASS_TYPE, CloudEvent
from services.gateway.claim_resends import request_resend
from services.gateway.dependencies import (
    BadgeWriter,
    CredentialWriter,
    EventWriter,
    Reader,
    json_body,
    producer_of,
    publisher_of,
    settings_of,
    store_of,
)

router = APIRouter(prefix="/v1")
_single_event = TypeAdapter(ActivityIn)
EVENT_BODY_NAMES = ["VolunteerShiftIn", "WorkshopAttendanceIn", "ActivityVoidedIn", "EventBatchIn"]


@router.post(
    "/events",
    status_code=202,
    response_model=EventsAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in EVENT_BODY_NAMES]
                    }
                }
            },
        }
    },
)
async def post_events(request: Request, org: EventWriter) -> EventsAccepted:
    """One event, or {"events": [...]} validated all-or-nothing; 202 once Kafka has them all."""
    body = await json_body(request)
    context = intake_context(settings_of(request))
    try:
        if isinstance(body, dict) and "events" in body:
            events = EventBatchIn.model_validate(body, context=context).events
        else:
            events = [_single_event.validate_python(body, context=context)]
    except ValidationError as e:
        raise RequestValidationError(e.errors(include_url=False), body=body) from e
    return EventsAccepted(accepted=await accept_events(store_of(request), publisher_of(request), org, events))


@router.post("/badge-classes", status_code=201, response_model=BadgeClassStored)
async def post_badge_class(body: BadgeClassIn, request: Request, org: BadgeWriter) -> BadgeClassStored:
    badge = await store_of(request).save_badge_class(org.id, body, org.timezone)
    envelope = CloudEvent[BadgeClass](
        id=f"{org.id}:{badge.id}:{badge.version}",
        source=f"/orgs/{org.slug}",
        type=BADGE_CLASS_TYPE,
        subject=badge.id,
        orgid=org.id,
        data=badge,
    )
    await producer_of(request).send_and_wait(
        bus.BADGE_CLASSES, key=f"{org.id}:{badge.id}".encode(), value=bus.encode(envelope)
    )
    return BadgeClassStored(id=badge.id, version=badge.version)


@router.get("/badge-classes", response_model=list[BadgeClass])
async def list_badge_classes(request: Request, org: Reader) -> list[BadgeClass]:
    return await store_of(request).badge_classes(org.id)


@router.get("/recipients/{email}/progress", response_model=RecipientProgress)
async def recipient_progress(email: EmailStr, request: Request, org: Reader) -> RecipientProgress:
    """Where one volunteer stands toward each of this organisation's badges."""
    store = store_of(request)
    progress = await store.progress(org.id, await store.recipient_key_of(org.id, email))
    if progress is None:
        raise HTTPException(404, "no activity recorded for this person")
    return RecipientProgress(email=email, badges=progress.badges, pending_voids=progress.pending_voids)


async def _own_credential(request: Request, org_id: str, credential_uuid: str) -> t.Credential:
    credential = await store_of(request).credential(credential_id_from(credential_uuid))
    if credential is None or credential.org_id != org_id:
        raise HTTPException(404, "no such credential")
    return credential


@router.get("/credentials", response_model=list[CredentialSummary])
async def list_credentials(
    request: Request,
    org: Reader,
    badge: str | None = None,
    email: EmailStr | None = None,
    status: Literal["active", "suspended", "revoked"] | None = None,
) -> list[CredentialSummary]:
    """The organisation's credentials, oldest first; filter by badge class, earner or status."""
    store = store_of(request)
    key = await store.recipient_key_of(org.id, email) if email else None
    found = await store.credentials(org.id, badge_class_id=badge, recipient_key=key, status=status)
    notifications = await store.notifications([c.id for c in found])
    return [summary(c, notifications.get(c.id)) for c in found]


@router.post(
    "/credentials/{credential_uuid}/resend",
    status_code=202,
    response_model=ResendAccepted,
    responses={404: {"description": "no such credential in this organisation"}},
)
async def resend_claim_email(credential_uuid: str, request: Request, org: CredentialWriter) -> ResendAccepted:
    """Emails the earner a new claim link; links sent before stop working."""
    credential = await _own_credential(request, org.id, credential_uuid)
    return ResendAccepted(
        credential_id=credential.id, claim_generation=await request_resend(request, credential)
    )


@router.post(
    "/credentials/{credential_uuid}/{action}",
    response_model=CredentialSummary,
    responses={
        404: {"description": "no such credential in this organisation"},
        409: {"description": "the change does not apply to the credential's status"},
    },
)
async def change_credential_status(
    credential_uuid: str, action: Action, body: StatusChangeIn, request: Request, org: CredentialWriter
) -> CredentialSummary:
    """Revoke (final), suspend, or unsuspend; the signed status lists change with it."""
    store = store_of(request)
    credential_id = credential_id_from(credential_uuid)
    try:
        credential = await change_status(
            store, org, credential_id, action, body.reason, settings_of(request).public_url
        )
    except LookupError as e:
        raise HTTPException(404, "no such credential") from e
    except StatusChangeError as e:
        raise HTTPException(409, str(e)) from e
    return summary(credential, await store.notification(credential.id))


@router.get("/award-questions", response_model=list[AwardQuestionOut])
async def list_award_questions(request: Request, org: Reader) -> list[AwardQuestionOut]:
    """Awards whose criteria no longer hold since an activity was voided, oldest first."""
    return await award_questions(store_of(request), org.id)


@router.post(
    "/award-questions/{award_id}/keep", status_code=204, responses={404: {"description": "no such question"}}
)
async def keep_award(award_id: str, request: Request, org: CredentialWriter) -> Response:
    """Decides to keep the badge; to withdraw it, revoke its credential (which decides too)."""
    if not await store_of(request).decide_question(org.id, award_id, "kept"):
        raise HTTPException(404, "no such question")
    return Response(status_code=204)


async def award_questions(store: Store, org_id: str) -> list[AwardQuestionOut]:
    contacts = {p.recipient_key: p.email for p in await store.recipients(org_id)}
    out = []
    for question in await store.questions(org_id):
        credential = await store.credential(credential_id_for(question.award_id))
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
            )
        )
    return out


def summary(credential: t.Credential, notification: t.Notification | None) -> CredentialSummary:
    return CredentialSummary(
        id=credential.id,
        badge_class_id=credential.badge_class_id,
        issued_at=credential.issued_at,
        status=credential.status,
        status_reason=credential.status_reason,
        email_status=notification.status if notification else "pending",
        email_error=notification.last_error if notification else None,
    )
