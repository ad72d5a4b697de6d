"""The gateway's door to cairn.usecases.resends: a credential that cannot be resent is a 409."""

from fastapi import HTTPException, Request

from cairn.ports import CredentialRecord
from cairn.usecases import resends
from services.gateway.dependencies import publisher_of, store_of


async def request_resend(request: Request, credential: CredentialRecord) -> int:
    """Publishes the resend (acks=all) and returns its claim generation."""
    try:
        return await resends.request_resend(store_of(request), publisher_of(request), credential)
    except resends.NotResendable as e:
        raise HTTPException(409, str(e)) from e
