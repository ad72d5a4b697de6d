"""The activity log (derived from cairn.activity.v1 by the projector): every accepted activity
record by organisation, recipient key and event id, for the badge builder's dry run."""

from sqlalchemy import select

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from schemas.activity import ActivityData, ActivityRecordValue


class ActivityLogTables(StoreBase):
    async def save_activity(self, org_id: str, event_id: str, activity: ActivityData) -> None:
        """Keeps the first record of an event id per person; a redelivery changes nothing."""
        async with self._session.begin() as s:
            await s.execute(
                self._insert(t.ActivityLogRow)
                .values(
                    org_id=org_id,
                    recipient_key=activity.recipient_key,
                    event_id=event_id,
                    data=activity.model_dump(mode="json"),
                    received_at=now(),
                )
                .on_conflict_do_nothing(
                    index_elements=[
                        t.ActivityLogRow.org_id,
                        t.ActivityLogRow.recipient_key,
                        t.ActivityLogRow.event_id,
                    ]
                )
            )

    async def activity_histories(self, org_id: str) -> dict[str, list[tuple[str, ActivityData]]]:
        """recipient_key -> (event id, record) of each of their activities and voids, as received."""
        async with self._session() as s:
            rows = await s.execute(
                select(t.ActivityLogRow.recipient_key, t.ActivityLogRow.event_id, t.ActivityLogRow.data)
                .where(t.ActivityLogRow.org_id == org_id)
                .order_by(t.ActivityLogRow.recipient_key, t.ActivityLogRow.received_at)
            )
            histories: dict[str, list[tuple[str, ActivityData]]] = {}
            for key, event_id, data in rows.all():
                record = ActivityRecordValue.model_validate(data).root
                histories.setdefault(key, []).append((event_id, record))
        return histories
