"""Emails the earner a claim link for an issued credential, once.

A notification row per credential records what was sent. The claim token and Message-ID are
derived from the credential id, so if the notifier dies between the SMTP server accepting the
message and the row being written, the re-sent email is byte-for-byte the same message.
"""

import logging
from datetime import timedelta

from cairn.bus import PoisonRecord
from cairn.crash_points import crash_point
from cairn.email_message import ClaimEmail, message_id_for, render_claim_email
from cairn.settings import Settings
from cairn.smtp import send
from cairn.store import Store
from schemas.awards import CredentialIssued

log = logging.getLogger(__name__)


async def notify_earner(store: Store, issued: CredentialIssued, settings: Settings) -> bool:
    """Sends the claim email unless it was sent already; returns whether it sent one now."""
    existing = await store.notification(issued.credential_id)
    if existing is not None and existing.status == "sent":
        return False
    credential = await store.credential(issued.credential_id)
    org = await store.org(issued.org_id)
    contact = await store.recipient(issued.org_id, issued.recipient_key)
    if credential is None or org is None:
        raise PoisonRecord(f"credential {issued.credential_id} or its organisation is not in the store")
    message_id = message_id_for(issued.credential_id)
    if contact is None:  # erased since the award: nobody to tell
        await store.record_notification(issued.credential_id, message_id, "failed", "recipient erased")
        return False
    token = store.claim_token_for(issued.credential_id)
    await store.ensure_claim_token(issued.credential_id, token, timedelta(days=settings.claim_token_days))
    achievement = credential.document["credentialSubject"]["achievement"]
    message = render_claim_email(
        ClaimEmail(
            recipient_email=contact.email,
            recipient_name=contact.name,
            org_name=org.name,
            badge_name=achievement["name"],
            badge_description=achievement["description"],
            claim_url=f"{settings.public_url}/claim/{token}",
            message_id=message_id,
        ),
        sender=settings.mail_from,
    )
    await store.record_notification(issued.credential_id, message_id, "sending")
    crash_point("notifier.before_send")
    await send(message, settings.smtp_host, settings.smtp_port)
    await store.record_notification(issued.credential_id, message_id, "sent")
    crash_point("notifier.sent_recorded")
    log.info("claim email sent for %s", issued.credential_id)
    return True
