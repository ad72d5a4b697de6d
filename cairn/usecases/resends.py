"""Asking the notifier to send a claim email again, with a new link (the old one stops working).

The request is a ClaimEmailResendRequested command for the next claim generation, on its own
topic: the notifier sends each generation once, even across its crashes.
"""

from cairn.domain.records import CredentialRecord
from cairn.ports import Publisher, Store
from schemas.awards import ClaimEmailResendRequested


class NotResendable(ValueError):
    """A revoked or suspended credential: a new claim email would present it to its holder as valid."""


async def request_resend(store: Store, publisher: Publisher, credential: CredentialRecord) -> int:
    """Publishes the resend (acks=all) and returns its claim generation."""
    if credential.status != "active":
        raise NotResendable(f"the credential is {credential.status}: no claim email is sent for it")
    notification = await store.notification(credential.id)
    generation = (notification.generation if notification else 0) + 1
    await publisher.publish(
        ClaimEmailResendRequested(
            credential_id=credential.id,
            org_id=credential.org_id,
            recipient_key=credential.recipient_key,
            claim_generation=generation,
        )
    )
    return generation
