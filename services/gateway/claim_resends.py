"""Asking the notifier to send a claim email again, with a new link (the old one stops working).

The request is the credential's CredentialIssued record again, with the next claim generation:
the notifier sends each generation once, even across its crashes.
"""

from fastapi import HTTPException, Request

from cairn.adapters.kafka import bus
from cairn.domain.records import CredentialRecord
from cairn.usecases.issuing import issued_record
from schemas.awards import CredentialIssued
from schemas.envelope import CREDENTIAL_ISSUED_TYPE, CloudEvent
from services.gateway.dependencies import producer_of, store_of


async def request_resend(request: Request, credential: CredentialRecord) -> int:
    """Publishes the resend (acks=all) and returns its claim generation. A revoked or suspended
    credential gets none: a new claim email would present it to its holder as valid."""
    if credential.status != "active":
        raise HTTPException(409, f"the credential is {credential.status}: no claim email is sent for it")
    notification = await store_of(request).notification(credential.id)
    generation = (notification.generation if notification else 0) + 1
    issued = issued_record(credential, generation)
    envelope = CloudEvent[CredentialIssued](
        id=f"{credential.id}#resend-{generation}",
        source="/gateway",
        type=CREDENTIAL_ISSUED_TYPE,
        subject=credential.recipient_key,
        orgid=credential.org_id,
        data=issued,
    )
    await producer_of(request).send_and_wait(
        bus.CREDENTIALS, key=credential.id.encode(), value=bus.encode(envelope)
    )
    return generation
