"""Emails the earner a claim link for an issued credential: once per credential, and once more
per resend.

A notification row per credential records what was sent. The claim token and Message-ID are
derived from the credential id and the resend generation, so if the notifier dies between the
SMTP server accepting the message and the row being written, the re-sent email is byte-for-byte
the same message.
"""

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from cairn.crash_points import crash_point
from cairn.domain import languages
from cairn.domain.badge_images import badge_png
from cairn.domain.failures import PoisonRecord, RetryPolicy, Stopped, until_done
from cairn.domain.records import CredentialRecord, NotificationRecord, Org
from cairn.ports import Mailer, MailNotSent, MailRefused, Store
from cairn.settings import Settings
from cairn.usecases.credential_texts import figure_text
from cairn.usecases.email_message import (
    Branding,
    ClaimEmail,
    UnsafeHeader,
    message_id_for,
    render_claim_email,
)
from schemas.awards import ClaimEmailResendRequested, CredentialIssued

log = logging.getLogger(__name__)
DONE = {"sent", "bounced", "failed", "suppressed"}


async def claim_email_image(store: Store, credential: CredentialRecord, org: Org) -> bytes:
    """The badge's image for the email: the organisation's uploaded PNG, else the drawn one (an
    uploaded SVG is not shown by most mail programs, so it is drawn then too)."""
    uploaded = await store.badge_image(org.id, credential.badge_class_id)
    if uploaded is not None and uploaded.content_type == "image/png":
        return uploaded.data
    badge = await store.badge_class(org.id, credential.badge_class_id)
    return badge_png(
        credential.document.get("name", "Badge"),
        org.colour,
        glyph=badge.glyph if badge else None,
        shape=badge.shape if badge else None,
        key=credential.badge_class_id,
    )


def occurrence_of(document: dict[str, Any]) -> str | None:
    """ "9 activities" from a repeating badge's credential named "Every three shifts (9 activities)"
    (cairn.credentials.builder names it so); None for a badge earned once."""
    badge = document["credentialSubject"]["achievement"]["name"]
    name = document.get("name") or badge
    if name.startswith(f"{badge} (") and name.endswith(")"):
        return name[len(badge) + 2 : -1]
    return None


def rounds_tried(existing: NotificationRecord | None, generation: int) -> int:
    """Rounds of the Mailer's retries this email has had before (each wrote "sending" once),
    counted in the store so that restarts and redeliveries do not start the count again."""
    if existing is None or existing.generation != generation or existing.status != "sending":
        return 0
    return existing.attempts


# Recording "sent" once the server has the message is retried in place, this long at most,
# while the failure is transient (the database restarting): a retry of the whole record would
# send the email again.
SENT_RECORD_PATIENCE_SECONDS = 120.0
SENT_RECORD_RETRIES = RetryPolicy(max_attempts=1, base_delay=0.1, max_delay=5.0)


async def record_sent(store: Store, credential_id: str, message_id: str, generation: int) -> None:
    """Records the email as sent, waiting out a database that is away (up to the patience);
    any other failure, or one that outlasts it, is raised for the consumer as before."""
    deadline = time.monotonic() + SENT_RECORD_PATIENCE_SECONDS

    async def pause(seconds: float) -> bool:
        if time.monotonic() + seconds > deadline:
            return False
        await asyncio.sleep(seconds)
        return True

    try:
        refused = await until_done(
            lambda: store.record_notification(credential_id, message_id, "sent", None, generation),
            SENT_RECORD_RETRIES,
            f"recording claim email {message_id} as sent",
            pause,
        )
    except Stopped as outlasted:
        raise outlasted.__cause__ or outlasted from None
    if refused is not None:
        raise refused[0]


async def notify_earner(
    store: Store, issued: CredentialIssued | ClaimEmailResendRequested, settings: Settings, mailer: Mailer
) -> bool:
    """Sends the claim email unless this generation of it is done; returns whether it sent one.
    A CredentialIssued asks for generation 0, a resend command for the generation it names.

    A relay in trouble (unreachable, dropping, silent, 421, a 4xx to MAIL or DATA) raises: the
    consumer retries the record, nothing is lost, until this email has had
    `smtp_give_up_after_rounds` rounds (then failed, so one email cannot hold the notifier for
    ever). A 5xx is recorded as bounced, and a 4xx about the recipient that outlasts the Mailer's
    retries as failed, for the organisation to see (and resend).
    """
    generation = issued.claim_generation if isinstance(issued, ClaimEmailResendRequested) else 0
    existing = await store.notification(issued.credential_id)
    if existing is not None and (
        existing.generation > generation or (existing.generation == generation and existing.status in DONE)
    ):
        return False
    credential = await store.credential(issued.credential_id)
    org = await store.org(issued.org_id)
    contact = await store.recipient(issued.org_id, issued.recipient_key)
    if credential is None or org is None:
        raise PoisonRecord(f"credential {issued.credential_id} or its organisation is not in the store")
    message_id = message_id_for(issued.credential_id, generation)
    if credential.status != "active":  # a claim email would present it to its holder as valid
        await store.record_notification(
            issued.credential_id, message_id, "suppressed", f"credential {credential.status}", generation
        )
        return False
    if contact is None:  # erased since the award: nobody to tell
        await store.record_notification(
            issued.credential_id, message_id, "failed", "recipient erased", generation
        )
        return False
    if contact.unsubscribed:
        await store.record_notification(
            issued.credential_id, message_id, "suppressed", "unsubscribed", generation
        )
        return False
    token = store.claim_token_for(issued.credential_id, generation)
    await store.ensure_claim_token(
        issued.credential_id, token, timedelta(days=settings.claim_token_days), generation
    )
    document = credential.document
    achievement = document["credentialSubject"]["achievement"]
    code = store.unsubscribe_code(org.id, issued.recipient_key)
    image = await claim_email_image(store, credential, org)
    language = languages.choose(contact.language, org.language)
    try:
        message = render_claim_email(
            ClaimEmail(
                recipient_email=contact.email,
                recipient_name=contact.name,
                branding=Branding(org.name, org.colour, org.image_url),
                badge_name=achievement["name"],
                # the credential's name says which occurrence of a repeating badge this is
                occurrence=figure_text(occurrence_of(document), language),
                badge_description=achievement["description"],
                evidence=[e["description"] for e in document.get("evidence", []) if "description" in e],
                claim_url=f"{settings.public_url}/claim/{token}",
                unsubscribe_url=f"{settings.public_url}/unsubscribe/{org.slug}/{issued.recipient_key}/{code}",
                message_id=message_id,
                resent=generation > 0,
                image_png=image,
                language=language,
            ),
            sender=settings.mail_from,
        )
    except UnsafeHeader as e:
        # never sent with a header line nobody wrote: the organisation sees why, the record goes
        # to the DLQ (the name cannot be fixed by retrying)
        await store.record_notification(issued.credential_id, message_id, "failed", str(e)[:500], generation)
        raise
    await store.record_notification(issued.credential_id, message_id, "sending", None, generation)
    mine = await store.notification(issued.credential_id)

    async def still_mine() -> bool:
        """No other notifier has taken this email over (its record handed on in a rebalance
        while this one waited between retries): else one of them would send it twice."""
        return await store.notification(issued.credential_id) == mine

    crash_point("notifier.before_send")
    try:
        await mailer.send(message, still_wanted=still_mine)
    except MailRefused as e:
        await store.record_notification(issued.credential_id, message_id, "bounced", str(e)[:500], generation)
        log.warning("claim email for %s bounced: %s", issued.credential_id, e)
        return False
    except MailNotSent as e:
        if not await still_mine():
            log.info("claim email for %s taken over by another notifier", issued.credential_id)
            return False
        if e.unreachable and rounds_tried(existing, generation) + 1 < settings.smtp_give_up_after_rounds:
            raise  # the relay's trouble: the consumer retries the record, nothing is lost
        await store.record_notification(issued.credential_id, message_id, "failed", str(e)[:500], generation)
        log.warning("claim email for %s failed after retries: %s", issued.credential_id, e)
        return False
    await record_sent(store, issued.credential_id, message_id, generation)
    crash_point("notifier.sent_recorded")
    log.info("claim email sent for %s (generation %d)", issued.credential_id, generation)
    return True
