"""The people credentials are for: contact details, claim and sign-in links, wallet exchanges,
claim emails and unsubscribing, and a person's export and erasure."""

from datetime import timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import delete, func, select, update

from cairn.adapters.keyring import token_hash
from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from cairn.adapters.store.records import record, record_or_none
from cairn.adapters.store.webhooks import forget_emails
from cairn.domain.identity import normalise_email
from cairn.domain.records import (
    Claim,
    CredentialRecord,
    NotificationRecord,
    Org,
    RecipientContact,
    RecipientRecord,
    WalletExchangeRecord,
)
from cairn.domain.volunteers import natural_key
from schemas.awards import BadgeProgress


class EarnerTables(StoreBase):
    # recipients

    async def upsert_recipients(self, org_id: str, people: dict[str, tuple[str, str | None]]) -> None:
        """recipient_key -> (email, name); keeps the first salt, refreshes the name if given.
        INSERT … ON CONFLICT, so two first POSTs for the same new person both succeed."""
        if not people:
            return
        rows = [
            {
                "org_id": org_id,
                "recipient_key": key,
                "email": email,
                "name": name,
                "salt": self.keyring.new_salt(),
                "sort_name": natural_key(name or email),
            }
            for key, (email, name) in sorted(people.items())  # one lock order: no deadlocks
        ]
        async with self._session.begin() as s:
            await s.execute(self._recipient_upsert, rows)

    @cached_property
    def _recipient_upsert(self) -> Any:
        """Built once and run with many parameter sets: SQLAlchemy compiles it once per process
        (a multi-row VALUES was compiled anew for every POST: a tenth of the gateway's CPU)."""
        table = t.Recipient.__table__
        insert = self._insert(table)
        new = insert.excluded
        return insert.on_conflict_do_update(
            index_elements=[table.c.org_id, table.c.recipient_key],
            set_={"name": new.name, "sort_name": new.sort_name},
            where=(func.coalesce(new.name, "") != "") & table.c.name.is_distinct_from(new.name),
        )

    async def recipient(self, org_id: str, recipient_key: str) -> RecipientContact | None:
        async with self._session() as s:
            row = await s.get(t.Recipient, (org_id, recipient_key))
        return (
            RecipientContact(row.email, row.name, row.salt, row.unsubscribed_at is not None, row.language)
            if row
            else None
        )

    async def set_recipient_languages(self, org_id: str, languages: dict[str, str]) -> None:
        """recipient_key -> BCP 47 tag: the language each person reads from now on (as an event
        gave it, or as they chose on a page). Unknown keys are left alone."""
        async with self._session.begin() as s:
            for key, language in sorted(languages.items()):
                await s.execute(
                    update(t.Recipient)
                    .where(t.Recipient.org_id == org_id, t.Recipient.recipient_key == key)
                    .values(language=language)
                )

    async def recipients(self, org_id: str) -> list[RecipientRecord]:
        async with self._session() as s:
            rows = await s.scalars(
                select(t.Recipient).where(t.Recipient.org_id == org_id).order_by(t.Recipient.email)
            )
            return [record(RecipientRecord, row) for row in rows.all()]

    # claim links

    def claim_token_for(self, credential_id: str, generation: int = 0) -> str:
        """Deterministic but unguessable (a MAC under the master key), so an email re-sent after
        a crash carries the same link; only its hash is stored."""
        return self.keyring.claim_token(credential_id, generation)

    async def ensure_claim_token(
        self, credential_id: str, token: str, ttl: timedelta, generation: int = 0
    ) -> None:
        """Stores the token's hash; tokens of earlier generations of the credential stop working."""
        async with self._session.begin() as s:
            await s.execute(
                delete(t.ClaimToken).where(
                    t.ClaimToken.credential_id == credential_id, t.ClaimToken.generation < generation
                )
            )
            await s.execute(
                self._insert(t.ClaimToken)
                .values(
                    token_hash=token_hash(token),
                    credential_id=credential_id,
                    generation=generation,
                    expires_at=now() + ttl,
                    claimed_at=None,
                )
                .on_conflict_do_nothing(index_elements=[t.ClaimToken.token_hash])
            )

    async def claim(self, token: str) -> Claim:
        """Looks a claim link up; an unexpired one records the first claim."""
        async with self._session.begin() as s:
            row = await s.get(t.ClaimToken, token_hash(token))
            if row is None:
                return Claim(None, expired=False)
            credential = record_or_none(CredentialRecord, await s.get(t.Credential, row.credential_id))
            if row.expires_at < now():
                return Claim(credential, expired=True)
            if row.claimed_at is None:
                row.claimed_at = now()
                return Claim(credential, expired=False, first=True)
            return Claim(credential, expired=False)

    # a volunteer's own view ("my badges")

    async def create_sign_in_token(self, email: str, ttl: timedelta) -> str:
        token = self.keyring.mint_token()  # only the hash is stored
        async with self._session.begin() as s:
            s.add(
                t.SignInToken(
                    token_hash=token_hash(token), email=normalise_email(email), expires_at=now() + ttl
                )
            )
        return token

    async def sign_in(self, token: str) -> str | None:
        """The email an unexpired magic link was sent to."""
        async with self._session() as s:
            row = await s.get(t.SignInToken, token_hash(token))
        return row.email if row is not None and row.expires_at >= now() else None

    async def earner_records(
        self, email: str
    ) -> list[tuple[Org, list[CredentialRecord], list[BadgeProgress]]]:
        """Per organisation that knows this email: its credentials for them and their progress."""
        async with self._session() as s:
            people = (
                await s.scalars(
                    select(t.Recipient).where(func.lower(t.Recipient.email) == normalise_email(email))
                )
            ).all()
            out = []
            for person in people:
                org = await s.get(t.Organisation, person.org_id)
                credentials = (
                    await s.scalars(
                        select(t.Credential)
                        .where(
                            t.Credential.org_id == person.org_id,
                            t.Credential.recipient_key == person.recipient_key,
                        )
                        .order_by(t.Credential.issued_at)
                    )
                ).all()
                view = await s.get(t.ProgressView, (person.org_id, person.recipient_key))
                progress = [BadgeProgress.model_validate(b) for b in view.badges] if view else []
                if org is not None:
                    out.append(
                        (record(Org, org), [record(CredentialRecord, c) for c in credentials], progress)
                    )
        return out

    # wallet exchanges

    async def create_exchange(self, credential_id: str, ttl: timedelta) -> WalletExchangeRecord:
        row = t.WalletExchange(
            id=self.keyring.mint_token(24),
            credential_id=credential_id,
            challenge=self.keyring.mint_token(24),
            expires_at=now() + ttl,
            holder=None,
        )
        async with self._session.begin() as s:
            s.add(row)
        return record(WalletExchangeRecord, row)

    async def exchange(self, exchange_id: str) -> WalletExchangeRecord | None:
        async with self._session() as s:
            row = await s.get(t.WalletExchange, exchange_id)
        return record(WalletExchangeRecord, row) if row is not None and row.expires_at >= now() else None

    async def complete_exchange(self, exchange_id: str, holder: str) -> bool:
        """Records the holder; False if the exchange was used already (each is single-use)."""
        async with self._session.begin() as s:
            done = await s.execute(
                update(t.WalletExchange)
                .where(t.WalletExchange.id == exchange_id, t.WalletExchange.holder.is_(None))
                .values(holder=holder)
            )
        return done.rowcount == 1

    # claim emails and unsubscribing

    def unsubscribe_code(self, org_id: str, recipient_key: str) -> str:
        return self.keyring.unsubscribe_code(org_id, recipient_key)

    async def unsubscribe(self, org_id: str, recipient_key: str, code: str) -> bool:
        if not self.keyring.unsubscribe_code_matches(org_id, recipient_key, code):
            return False
        async with self._session.begin() as s:
            row = await s.get(t.Recipient, (org_id, recipient_key))
            if row is None:
                return False
            row.unsubscribed_at = row.unsubscribed_at or now()
        return True

    async def notifications(self, credential_ids: list[str]) -> dict[str, NotificationRecord]:
        """The notification rows of many credentials, in one query."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.Notification).where(t.Notification.credential_id.in_(credential_ids))
            )
            return {row.credential_id: record(NotificationRecord, row) for row in rows.all()}

    async def notification(self, credential_id: str) -> NotificationRecord | None:
        async with self._session() as s:
            return record_or_none(NotificationRecord, await s.get(t.Notification, credential_id))

    async def record_notification(
        self, credential_id: str, message_id: str, status: str, error: str | None = None, generation: int = 0
    ) -> None:
        async with self._session.begin() as s:
            # The row is made first (ON CONFLICT: two senders may race), then read locked.
            await s.execute(
                self._insert(t.Notification)
                .values(
                    credential_id=credential_id,
                    message_id=message_id,
                    generation=generation,
                    status=status,
                    attempts=0,
                    last_error=None,
                    sent_at=None,
                )
                .on_conflict_do_nothing(index_elements=[t.Notification.credential_id])
            )
            row = await s.get_one(t.Notification, credential_id, with_for_update=True, populate_existing=True)
            if generation != row.generation:
                row.generation, row.message_id, row.attempts = generation, message_id, 0
            row.status = status
            row.attempts += 1
            row.last_error = error
            if status == "sent":
                row.sent_at = now()

    async def mark_handed_over(
        self, credential_id: str, generation: int, attempts: int, handed: bool
    ) -> bool:
        async with self._session.begin() as s:
            done = await s.execute(
                update(t.Notification)
                .where(
                    t.Notification.credential_id == credential_id,
                    t.Notification.generation == generation,
                    t.Notification.attempts == attempts,
                    t.Notification.status.in_(("sending", "handed_over")),
                )
                .values(status="handed_over" if handed else "sending", sent_at=now() if handed else None)
            )
        return done.rowcount == 1

    # a person's data: export and erasure

    async def person_export(self, org_id: str, recipient_key: str) -> dict[str, Any] | None:
        """Everything this organisation's store holds about one person."""
        async with self._session() as s:
            person = await s.get(t.Recipient, (org_id, recipient_key))
            if person is None:
                return None
            credentials = (
                await s.scalars(
                    select(t.Credential).where(
                        t.Credential.org_id == org_id, t.Credential.recipient_key == recipient_key
                    )
                )
            ).all()
            notifications = {
                n.credential_id: n
                for n in (
                    await s.scalars(
                        select(t.Notification).where(
                            t.Notification.credential_id.in_([c.id for c in credentials])
                        )
                    )
                ).all()
            }
            progress = await s.get(t.ProgressView, (org_id, recipient_key))
        return {
            "contact": {
                "email": person.email,
                "name": person.name,
                "unsubscribed_at": person.unsubscribed_at.isoformat() if person.unsubscribed_at else None,
                "language": person.language,
            },
            "credentials": [
                {
                    "id": c.id,
                    "status": c.status,
                    "issued_at": c.issued_at.isoformat(),
                    "email_status": notifications[c.id].status if c.id in notifications else None,
                    "document": c.document,
                }
                for c in credentials
            ],
            "progress": progress.badges if progress else [],
        }

    async def erase_person(self, org_id: str, recipient_key: str) -> bool:
        """Deletes the contact details and every link that leads from an email to the person's
        credentials (claim links, sign-in links, the email-derived key on their rows). The
        credentials stay valid: they hold only a salted hash, and the salt goes with the contact."""
        async with self._session.begin() as s:
            person = await s.get(t.Recipient, (org_id, recipient_key))
            if person is None:
                return False
            credential_ids = select(t.Credential.id).where(
                t.Credential.org_id == org_id, t.Credential.recipient_key == recipient_key
            )
            await s.execute(delete(t.ClaimToken).where(t.ClaimToken.credential_id.in_(credential_ids)))
            await s.execute(
                delete(t.WalletExchange).where(t.WalletExchange.credential_id.in_(credential_ids))
            )
            await s.execute(delete(t.SignInToken).where(t.SignInToken.email == normalise_email(person.email)))
            await s.execute(
                update(t.Credential)
                .where(t.Credential.org_id == org_id, t.Credential.recipient_key == recipient_key)
                .values(recipient_key=self.keyring.unlinkable_key())
            )
            await s.execute(
                delete(t.ActivityRow).where(
                    t.ActivityRow.org_id == org_id, t.ActivityRow.recipient_key == recipient_key
                )
            )
            await s.execute(
                delete(t.ProgressView).where(
                    t.ProgressView.org_id == org_id, t.ProgressView.recipient_key == recipient_key
                )
            )
            await forget_emails(s, org_id, recipient_key)
            await s.delete(person)
        return True
