"""Asking the notifier to send a claim email again, with a new link (the old one stops working).

The request is the credential's CredentialIssued record again, with the next claim generation:
the notifier sends each generation once, even across its crashes.
"""

from cairn.ports import CredentialRecord, Publisher, Store
from cairn.usecases.issuing import issued_record


class NotResendable(ValueError):
    """A revoked or suspended credential: a new claim email would present it to its holder as valid."""


async def request_resend(store: Store, publisher: Publisher, credential: CredentialRecord) -> int:
    """Publishes the resend (acks=all) and returns its claim generation."""
    if credential.status != "active":
        raise NotResendable(f"the credential is {credential.status}: no claim email is sent for it")
    notification = await store.notification(credential.id)
    generation = (notification.generation if notification else 0) + 1
    await publisher.publish(issued_record(credential, generation))
    return generation
