"""What an operator asks of the store: the pipeline's totals for /metrics, across every process
and restart (the workers' own counters start at zero with each process)."""

from sqlalchemy import func, select

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase


class OperationsTables(StoreBase):
    async def pipeline_totals(self) -> tuple[int, dict[str, int]]:
        """Credentials signed, and claim emails by their notification status."""
        async with self._session() as s:
            credentials = await s.scalar(select(func.count()).select_from(t.Credential)) or 0
            rows = await s.execute(
                select(t.Notification.status, func.count()).group_by(t.Notification.status)
            )
            return credentials, {status: count for status, count in rows.all()}
