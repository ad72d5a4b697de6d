"""Signed credentials, their status-list indexes, and the signed status lists."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from cairn.adapters.store.records import record, record_or_none
from cairn.credentials.status_list import random_index, with_bit
from cairn.domain.records import CredentialRecord, StatusListRecord


class CredentialTables(StoreBase):
    async def insert_credential(
        self,
        *,
        credential_id: str,
        award_id: str,
        org_id: str,
        badge_class_id: str,
        recipient_key: str,
        document: dict[str, Any],
        issued_at: datetime,
        badge_class_version: int | None = None,
    ) -> tuple[CredentialRecord, bool]:
        """Stores the signed credential unless its award already has one.

        Returns the stored credential and whether this call created it: award_id is unique,
        so a redelivered award can never become a second credential.
        """
        try:
            async with self._session.begin() as s:
                row = t.Credential(
                    id=credential_id,
                    award_id=award_id,
                    org_id=org_id,
                    badge_class_id=badge_class_id,
                    recipient_key=recipient_key,
                    document=document,
                    issued_at=issued_at,
                    status="active",
                    badge_class_version=badge_class_version,
                )
                s.add(row)
            return record(CredentialRecord, row), True
        except IntegrityError:
            existing = await self.credential_by_award(award_id)
            if existing is None:
                raise
            return existing, False

    async def status_index(self, org_id: str, credential_id: str) -> int:
        """The credential's status list index: random, unique in the organisation, and the same
        on every call for the same credential (so a redelivered award gets the same one)."""
        for _ in range(64):
            async with self._session() as s:
                existing = await s.get(t.StatusEntry, credential_id)
            if existing is not None:
                return existing.status_index
            try:
                async with self._session.begin() as s:
                    s.add(
                        t.StatusEntry(credential_id=credential_id, org_id=org_id, status_index=random_index())
                    )
            except IntegrityError:
                continue  # index taken (or this credential raced us): look again
        raise RuntimeError(f"no free status list index for organisation {org_id}")

    async def status_list(self, org_id: str, purpose: str) -> StatusListRecord | None:
        async with self._session() as s:
            return record_or_none(StatusListRecord, await s.get(t.StatusList, (org_id, purpose)))

    async def save_status_list(
        self, org_id: str, purpose: str, bits: bytes, document: dict[str, Any]
    ) -> None:
        async with self._session.begin() as s:
            await s.merge(
                t.StatusList(org_id=org_id, purpose=purpose, bits=bits, document=document, updated_at=now())
            )

    async def change_status(
        self,
        org_id: str,
        credential_id: str,
        new_status: str,
        reason: str | None,
        flips: dict[str, bool],
        sign_list: Callable[[str, bytes], dict[str, Any]],
    ) -> CredentialRecord:
        """Sets the credential's status and its bits in the lists, re-signing each changed list
        with `sign_list(purpose, bits)`, all in one transaction (rows locked on PostgreSQL). The
        organisation's first change of a list makes its row; a change racing it is run again."""
        try:
            return await self._change_status(org_id, credential_id, new_status, reason, flips, sign_list)
        except IntegrityError:  # another change made the list's row first: it exists now
            return await self._change_status(org_id, credential_id, new_status, reason, flips, sign_list)

    async def _change_status(
        self,
        org_id: str,
        credential_id: str,
        new_status: str,
        reason: str | None,
        flips: dict[str, bool],
        sign_list: Callable[[str, bytes], dict[str, Any]],
    ) -> CredentialRecord:
        async with self._session.begin() as s:
            # A write first: SQLite's driver runs reads before a transaction's first write
            # outside it, so two changes would each read the list and one's bit would be lost.
            await s.execute(
                update(t.Credential)
                .where(t.Credential.id == credential_id)
                .values(status=t.Credential.status)
            )
            credential = await s.get(t.Credential, credential_id, with_for_update=True)
            entry = await s.get(t.StatusEntry, credential_id)
            if credential is None or credential.org_id != org_id or entry is None:
                raise LookupError(f"credential {credential_id} not found")
            for purpose, value in flips.items():
                row = await s.get(t.StatusList, (org_id, purpose), with_for_update=True)
                bits = with_bit(row.bits if row else None, entry.status_index, value)
                document = sign_list(purpose, bits)
                if row is None:
                    s.add(
                        t.StatusList(
                            org_id=org_id, purpose=purpose, bits=bits, document=document, updated_at=now()
                        )
                    )
                else:
                    row.bits, row.document, row.updated_at = bits, document, now()
            credential.status, credential.status_reason = new_status, reason
        return record(CredentialRecord, credential)

    async def credential_by_award(self, award_id: str) -> CredentialRecord | None:
        async with self._session() as s:
            row = await s.scalar(select(t.Credential).where(t.Credential.award_id == award_id))
        return record_or_none(CredentialRecord, row)

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        async with self._session() as s:
            return record_or_none(CredentialRecord, await s.get(t.Credential, credential_id))

    async def credentials(
        self,
        org_id: str,
        badge_class_id: str | None = None,
        recipient_key: str | None = None,
        status: str | None = None,
    ) -> list[CredentialRecord]:
        query = select(t.Credential).where(t.Credential.org_id == org_id)
        if badge_class_id:
            query = query.where(t.Credential.badge_class_id == badge_class_id)
        if recipient_key:
            query = query.where(t.Credential.recipient_key == recipient_key)
        if status:
            query = query.where(t.Credential.status == status)
        async with self._session() as s:
            rows = (await s.scalars(query.order_by(t.Credential.issued_at))).all()
        return [record(CredentialRecord, row) for row in rows]
