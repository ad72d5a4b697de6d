"""The notifier handles a batch's records side by side: a slow claim email holds up only its own
credential's next email (an issue and a resend of one credential never both pass the check
before either is sent), never another credential's."""

import asyncio
from email.message import EmailMessage

from cairn.bootstrap import Notifier
from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from schemas.awards import ClaimEmailResendRequested, CredentialIssued
from schemas.envelope import CloudEvent
from tests.service.fakes import FakeMailer
from tests.service.flow import PUBLIC_URL, awards_from, shift


class GatedMailer(FakeMailer):
    """Holds every message to `held` until released."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.release = asyncio.Event()

    async def send(self, message: EmailMessage, still_wanted=None, hand_over=None) -> str:
        if message["To"].addresses[0].addr_spec == self.held:
            await self.release.wait()
        return await super().send(message, still_wanted, hand_over)


def record(data: CredentialIssued | ClaimEmailResendRequested) -> CloudEvent:
    return CloudEvent[type(data)](id=f"r-{id(data)}", source="/test", type="t", orgid=data.org_id, data=data)


async def test_a_slow_email_holds_up_only_its_own_credential(
    store, settings, publisher, clock, riverside, issued
):
    await accept_events(store, publisher, riverside.org, [shift("a1", "ana@example.org", 0, 10)])
    ana_award = next(
        a for a in await awards_from(publisher, store, riverside.org.id) if a.award_id != issued.award_id
    )
    ana = await issue_and_announce(store, publisher, ana_award, PUBLIC_URL, clock)
    mailer = GatedMailer(held="sam@example.org")
    notifier = Notifier(settings, store, mailer)
    resend = ClaimEmailResendRequested(
        credential_id=issued.credential_id,
        org_id=issued.org_id,
        recipient_key=issued.recipient_key,
        claim_generation=1,
    )

    sams = asyncio.create_task(notifier.handle(record(issued)))
    sams_resend = asyncio.create_task(notifier.handle(record(resend)))
    await asyncio.wait_for(notifier.handle(record(ana)), 5)  # not behind Sam's held email
    assert [m["To"].addresses[0].addr_spec for m in mailer.sent] == ["ana@example.org"]
    assert not sams.done() and not sams_resend.done()

    mailer.release.set()
    await asyncio.wait_for(asyncio.gather(sams, sams_resend), 5)
    sam_ids = [m["Message-ID"] for m in mailer.sent if m["To"].addresses[0].addr_spec == "sam@example.org"]
    assert len(sam_ids) == 2 and sam_ids[1].endswith(".1@claim.cairn>")  # the issue, then the resend
    assert (await store.notification(issued.credential_id)).generation == 1
