"""Direct awards by idempotency key: the first post of a key is kept, so a repeat (a retry, a
double click, another gateway, after a restart) is recognised and issues nothing new."""

from sqlalchemy import select

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase
from cairn.adapters.store.records import record
from cairn.domain.records import DirectAwardRecord


class DirectAwardTables(StoreBase):
    async def claim_direct_award(self, award: DirectAwardRecord) -> tuple[DirectAwardRecord, bool]:
        """Keeps the award under its key unless the key is taken: (the stored award, whether
        this call stored it). Two racing posts of one key store one (ON CONFLICT DO NOTHING)."""
        values = {field: getattr(award, field) for field in award.__dataclass_fields__}
        async with self._session.begin() as s:
            inserted = await s.execute(
                self._insert(t.DirectAwardRow).values(**values).on_conflict_do_nothing()
            )
            row = await s.get(t.DirectAwardRow, (award.org_id, award.idempotency_key))
        assert row is not None
        return record(DirectAwardRecord, row), bool(inserted.rowcount)

    async def direct_awards(self, org_id: str) -> list[DirectAwardRecord]:
        """The organisation's direct awards, newest first."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.DirectAwardRow)
                .where(t.DirectAwardRow.org_id == org_id)
                .order_by(t.DirectAwardRow.created_at.desc(), t.DirectAwardRow.idempotency_key)
            )
            return [record(DirectAwardRecord, row) for row in rows]
