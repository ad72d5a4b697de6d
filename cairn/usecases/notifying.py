"""Emails the earner a claim link for an issued credential: once per credential, and once more
per resend.

A notification row per credential records what was sent. The claim token and Message-ID are
derived from the credential id and the resend generation, so any email sent again is byte-for-byte
the same message.

Just before the end of DATA the row is marked "handed_over". SMTP cannot tell a sender
afterwards whether the server took a message (RFC 1047), so a notifier that finds the mark of one
that died does not send the email again: it records it sent, "unconfirmed", for the organisation
to see (and resend). The sender takes the mark back when DATA fails, or when the relay stays
silent longer than an answer takes (a relay in trouble), so an email the relay never took is
sent again.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cairn.crash_points import crash_point
from cairn.domain import languages
from cairn.domain.badge_images import badge_png
from cairn.domain.failures import PoisonRecord, RetryPolicy, Stopped, Transient, until_done
from cairn.domain.records import CredentialRecord, NotificationRecord, Org
from cairn.ports import HandOverFailed, Mailer, MailNotSent, MailRefused, Store
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
IN_HAND = ("sending", "handed_over")  # a notifier is on it
UNCONFIRMED = "unconfirmed: the notifier stopped after handing this email to the server, before its answer"

# Emails (credential id, generation) this process marked handed over and knows the relay did not
# take, where the mark could not be taken back (the database away): its own retry sends them.
NotTakenHere = set[tuple[str, int]]


class HandOverUnsettled(Transient):
    """An email marked handed over by a sender that may still be waiting for the server's answer."""


@dataclass
class RowHandOver:
    """The notification row as the Mailer's HandOver: the mark is written only while the row is
    still this sender's (its generation and attempts)."""

    store: Store
    credential_id: str
    generation: int
    attempts: int
    not_taken_here: NotTakenHere

    async def handing(self) -> None:
        key = (self.credential_id, self.generation)
        self.not_taken_here.add(key)  # until the mark is known written: its commit may land unseen
        if not await self.store.mark_handed_over(self.credential_id, self.generation, self.attempts, True):
            raise HandOverFailed(f"claim email for {self.credential_id} is another notifier's now")
        self.not_taken_here.discard(key)

    async def not_taken(self) -> None:
        self.not_taken_here.add((self.credential_id, self.generation))
        try:
            await self.store.mark_handed_over(self.credential_id, self.generation, self.attempts, False)
        except Exception as e:  # remembered above: this process's retry sends it
            log.warning("could not take back the hand-over of %s: %s", self.credential_id, type(e).__name__)


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
    if existing is None or existing.generation != generation or existing.status not in IN_HAND:
        return 0
    return existing.attempts


# Recording "sent" once the server has the message is retried in place, this long at most,
# while the failure is transient (the database restarting): a retry of the whole record would
# send the email again.
SENT_RECORD_PATIENCE_SECONDS = 120.0
SENT_RECORD_RETRIES = RetryPolicy(max_attempts=1, base_delay=0.1, max_delay=5.0)


async def record_sent(
    store: Store, credential_id: str, message_id: str, generation: int, note: str | None = None
) -> None:
    """Records the email as sent (with `note`, if in doubt), waiting out a database that is away
    (up to the patience); any other failure, or one that outlasts it, is raised for the consumer
    as before."""
    deadline = time.monotonic() + SENT_RECORD_PATIENCE_SECONDS

    async def pause(seconds: float) -> bool:
        if time.monotonic() + seconds > deadline:
            return False
        await asyncio.sleep(seconds)
        return True

    try:
        refused = await until_done(
            lambda: store.record_notification(credential_id, message_id, "sent", note, generation),
            SENT_RECORD_RETRIES,
            f"recording claim email {message_id} as sent",
            pause,
        )
    except Stopped as outlasted:
        raise outlasted.__cause__ or outlasted from None
    if refused is not None:
        raise refused[0]


async def settle_hand_over(store: Store, found: NotificationRecord, settings: Settings) -> None:
    """An email marked handed over, found by a notifier that is not its sender (or a restart of
    it): once its sender would have had the answer or taken the mark back, it is recorded sent,
    unconfirmed, never sent again. Until then HandOverUnsettled (the record is tried again)."""
    waited = (datetime.now(UTC) - found.sent_at).total_seconds() if found.sent_at else 0.0
    if waited < settings.smtp_timeout_seconds:
        raise HandOverUnsettled(f"claim email {found.message_id} handed over {waited:.0f}s ago")
    await record_sent(store, found.credential_id, found.message_id, found.generation, UNCONFIRMED)
    log.warning("claim email %s recorded sent, unconfirmed: its sender died during DATA", found.message_id)


async def notify_earner(
    store: Store,
    issued: CredentialIssued | ClaimEmailResendRequested,
    settings: Settings,
    mailer: Mailer,
    not_taken_here: NotTakenHere | None = None,
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
    not_taken_here = set() if not_taken_here is None else not_taken_here
    if (
        existing is not None
        and (existing.generation, existing.status) == (generation, "handed_over")
        and (issued.credential_id, generation) not in not_taken_here
    ):
        await settle_hand_over(store, existing, settings)
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
    assert mine is not None
    ours = (mine.generation, mine.attempts)

    async def still_mine() -> bool:
        """No other notifier has taken this email over (its record handed on in a rebalance
        while this one waited between retries): else one of them would send it twice."""
        now = await store.notification(issued.credential_id)
        return now is not None and now.status in IN_HAND and (now.generation, now.attempts) == ours

    hand_over = RowHandOver(store, issued.credential_id, generation, mine.attempts, not_taken_here)
    crash_point("notifier.before_send")
    try:
        await mailer.send(message, still_wanted=still_mine, hand_over=hand_over)
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
    not_taken_here.discard((issued.credential_id, generation))
    crash_point("notifier.email_accepted")
    await record_sent(store, issued.credential_id, message_id, generation)
    crash_point("notifier.sent_recorded")
    log.info("claim email sent for %s (generation %d)", issued.credential_id, generation)
    return True
