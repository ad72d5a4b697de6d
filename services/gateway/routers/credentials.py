"""The organisation's credentials (/v1/credentials): listing them with their claim emails'
state, sending a claim email again, and revoking, suspending or unsuspending.

Every route takes the organisation from the API key and touches only that organisation's
records; another organisation's ids answer 404, as if they did not exist.
"""

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import EmailStr

from cairn.adapters.store import Store
from cairn.domain.records import CredentialRecord, NotificationRecord
from cairn.usecases.status_changes import Action, StatusChangeError, change_status
from schemas.admin import CredentialSummary, ResendAccepted, StatusChangeIn
from schemas.awards import credential_id_from
from services.gateway.claim_resends import request_resend
from services.gateway.dependencies import CredentialWriter, PublisherDep, Reader, SettingsDep, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(prefix="/v1", route_class=ParsedOnceRoute)


async def own_credential(store: Store, org_id: str, credential_uuid: str) -> CredentialRecord:
    """The credential, if it is this organisation's; else 404."""
    credential = await store.credential(credential_id_from(credential_uuid))
    if credential is None or credential.org_id != org_id:
        raise HTTPException(404, "no such credential")
    return credential


@router.get("/credentials", response_model=list[CredentialSummary])
async def list_credentials(
    org: Reader,
    store: StoreDep,
    badge: str | None = None,
    email: EmailStr | None = None,
    status: Literal["active", "suspended", "revoked"] | None = None,
) -> list[CredentialSummary]:
    """The organisation's credentials, oldest first; filter by badge class, earner or status."""
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
async def resend_claim_email(
    credential_uuid: str, org: CredentialWriter, store: StoreDep, publisher: PublisherDep
) -> ResendAccepted:
    """Emails the earner a new claim link; links sent before stop working."""
    credential = await own_credential(store, org.id, credential_uuid)
    return ResendAccepted(
        credential_id=credential.id, claim_generation=await request_resend(store, publisher, credential)
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
    credential_uuid: str,
    action: Action,
    body: StatusChangeIn,
    org: CredentialWriter,
    store: StoreDep,
    settings: SettingsDep,
    publisher: PublisherDep,
) -> CredentialSummary:
    """Revoke (final), suspend, or unsuspend; the signed status lists change with it."""
    credential_id = credential_id_from(credential_uuid)
    try:
        credential = await change_status(
            store, org, credential_id, action, body.reason, settings.public_url, publisher=publisher
        )
    except LookupError as e:
        raise HTTPException(404, "no such credential") from e
    except StatusChangeError as e:
        raise HTTPException(409, str(e)) from e
    return summary(credential, await store.notification(credential.id))


def summary(credential: CredentialRecord, notification: NotificationRecord | None) -> CredentialSummary:
    return CredentialSummary(
        id=credential.id,
        badge_class_id=credential.badge_class_id,
        issued_at=credential.issued_at,
        status=credential.status,
        status_reason=credential.status_reason,
        email_status=notification.status if notification else "pending",
        email_error=notification.last_error if notification else None,
    )
