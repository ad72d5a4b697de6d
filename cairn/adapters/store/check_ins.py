"""Workshop check-in: the sessions a host opened, and who checked in at each (by recipient key;
the contact details are the organisation's recipients)."""

from dataclasses import asdict

from sqlalchemy import select, update

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase
from cairn.adapters.store.records import record, record_or_none
from cairn.domain.records import CheckInRecord, CheckInSessionRecord


class CheckInTables(StoreBase):
    def check_in_code(self, session_id: str) -> str:
        return self.keyring.check_in_code(session_id)

    def check_in_code_matches(self, session_id: str, code: str) -> bool:
        return self.keyring.check_in_code_matches(session_id, code)

    async def create_check_in_session(self, session: CheckInSessionRecord) -> None:
        async with self._session.begin() as s:
            s.add(t.CheckInSessionRow(**asdict(session)))

    async def check_in_session(self, session_id: str) -> CheckInSessionRecord | None:
        async with self._session() as s:
            return record_or_none(CheckInSessionRecord, await s.get(t.CheckInSessionRow, session_id))

    async def check_in_sessions(self, org_id: str) -> list[CheckInSessionRecord]:
        """The organisation's sessions, latest start first."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.CheckInSessionRow)
                .where(t.CheckInSessionRow.org_id == org_id)
                .order_by(t.CheckInSessionRow.starts_at.desc(), t.CheckInSessionRow.id)
            )
            return [record(CheckInSessionRecord, row) for row in rows]

    async def add_check_in(self, check_in: CheckInRecord) -> tuple[CheckInRecord, bool]:
        """Keeps the check-in unless the person already checked in at that session: (the stored
        one, whether this call stored it). A removed check-in stays removed."""
        async with self._session.begin() as s:
            inserted = await s.execute(
                self._insert(t.CheckInRow).values(**asdict(check_in)).on_conflict_do_nothing()
            )
            row = await s.scalar(
                select(t.CheckInRow).where(
                    t.CheckInRow.session_id == check_in.session_id,
                    t.CheckInRow.recipient_key == check_in.recipient_key,
                )
            )
        assert row is not None
        return record(CheckInRecord, row), bool(inserted.rowcount)

    async def check_ins(self, session_id: str) -> list[CheckInRecord]:
        """In the order they checked in."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.CheckInRow)
                .where(t.CheckInRow.session_id == session_id)
                .order_by(t.CheckInRow.checked_in_at, t.CheckInRow.id)
            )
            return [record(CheckInRecord, row) for row in rows]

    async def set_check_in_status(self, check_in_id: str, old: str, new: str) -> CheckInRecord | None:
        """Moves the check-in from `old` to `new` status, once: None if it was not in `old` (so two
        clicks on Remove void it once)."""
        async with self._session.begin() as s:
            changed = await s.execute(
                update(t.CheckInRow)
                .where(t.CheckInRow.id == check_in_id, t.CheckInRow.status == old)
                .values(status=new)
            )
            if not changed.rowcount:
                return None
            return record_or_none(CheckInRecord, await s.get(t.CheckInRow, check_in_id))
