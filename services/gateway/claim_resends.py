"""The gateway's door to cairn.usecases.resends: a credential that cannot be resent is a 409."""

from fastapi import HTTPException

from cairn.domain.records import CredentialRecord
from cairn.ports import Publisher, Store
from cairn.usecases import resends


async def request_resend(store: Store, publisher: Publisher, credential: CredentialRecord) -> int:
    """Publishes the resend (acks=all) and returns its claim generation."""
    try:
        return await resends.request_resend(store, publisher, credential)
    except resends.NotResendable as e:
        raise HTTPException(409, str(e)) from e
