"""The volunteer list and a volunteer's history: server-side search, sort and paging over the
recipients (indexed by natural-sort name, latest activity and closeness to a badge), the
activity history the gateway keeps as it accepts events, and per-badge delivery counts."""

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase
from cairn.adapters.store.records import record
from cairn.domain.records import CredentialRecord
from cairn.domain.volunteers import (
    ActivityEntry,
    BadgeStats,
    VolunteerPage,
    VolunteerQuery,
    VolunteerRow,
)
from schemas.activity import ActivityData, ActivityRecordValue
from schemas.awards import BadgeProgress

HISTORY_LIMIT = 500


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _activity_values(org_id: str, e: ActivityEntry) -> dict[str, object]:
    return {
        "org_id": org_id,
        "event_id": e.event_id,
        "recipient_key": e.recipient_key,
        "kind": e.kind,
        "at": e.at,
        "seconds": e.seconds,
        "label": e.label[:320],
        "voids": e.voids,
        "reason": e.reason[:500] if e.reason else None,
        "data": e.data.model_dump(mode="json") if e.data is not None else None,
    }


class VolunteerTables(StoreBase):
    async def record_activities(self, org_id: str, entries: Sequence[ActivityEntry]) -> None:
        """Keeps each accepted activity once (an id posted again changes nothing), marks what a
        void took back (also when the void came first), and moves each person's latest activity."""
        if not entries:
            return
        a = t.ActivityRow
        async with self._session.begin() as s:
            await s.execute(self._activity_insert, [_activity_values(org_id, e) for e in entries])
            for void in (e for e in entries if e.voids):
                await s.execute(
                    update(a)
                    .where(a.org_id == org_id, a.event_id == void.voids)
                    .where(a.recipient_key == void.recipient_key)
                    .values(voided_by=void.event_id, void_reason=void.reason)
                )
            done = [e.event_id for e in entries if not e.voids]
            if done:  # a void that arrived before the activity it takes back
                waiting = select(a.event_id, a.voids, a.reason, a.recipient_key).where(
                    a.org_id == org_id, a.voids.in_(done)
                )
                for void_id, target, reason, key in (await s.execute(waiting)).all():
                    await s.execute(
                        update(a)
                        .where(a.org_id == org_id, a.event_id == target, a.recipient_key == key)
                        .values(voided_by=void_id, void_reason=reason)
                    )
            people = sorted({e.recipient_key for e in entries if not e.voids})
            kept = (  # from the rows kept: an id posted again with other times changes nothing
                select(a.recipient_key, func.max(a.at))
                .where(a.org_id == org_id, a.recipient_key.in_(people), a.voids.is_(None))
                .group_by(a.recipient_key)
            )
            latest = dict((await s.execute(kept)).all()) if people else {}
            r = t.Recipient.__table__.c  # Core, not the ORM: one statement with many parameter sets
            if latest:
                await s.execute(
                    update(t.Recipient.__table__)
                    .where(r.org_id == org_id, r.recipient_key == bindparam("key"))
                    .where(or_(r.last_activity_at.is_(None), r.last_activity_at < bindparam("at")))
                    .values(last_activity_at=bindparam("at")),
                    [{"key": key, "at": at} for key, at in sorted(latest.items())],
                )

    @cached_property
    def _activity_insert(self) -> Any:
        """Built once, run with many parameter sets, compiled once per process (see earners.py)."""
        table = t.ActivityRow.__table__
        return self._insert(table).on_conflict_do_nothing(
            index_elements=[table.c.org_id, table.c.recipient_key, table.c.event_id]
        )

    async def activity_history(self, org_id: str, recipient_key: str) -> list[ActivityEntry]:
        """Newest first, voids included, up to HISTORY_LIMIT entries."""
        a = t.ActivityRow
        async with self._session() as s:
            rows = await s.scalars(
                select(a)
                .where(a.org_id == org_id, a.recipient_key == recipient_key)
                .order_by(a.at.desc(), a.event_id)
                .limit(HISTORY_LIMIT)
            )
            return [_entry(row) for row in rows.all()]

    async def activity(
        self, org_id: str, event_id: str, recipient_key: str | None = None
    ) -> ActivityEntry | None:
        """The activity by id (the person's own when a key is given: ids are kept per person)."""
        a = t.ActivityRow
        where = [a.org_id == org_id, a.event_id == event_id]
        if recipient_key is not None:
            where.append(a.recipient_key == recipient_key)
        async with self._session() as s:
            row = (await s.scalars(select(a).where(*where).order_by(a.recipient_key).limit(1))).first()
        return None if row is None else _entry(row)

    async def activity_histories(self, org_id: str) -> dict[str, list[tuple[str, ActivityData]]]:
        """recipient_key -> (event id, record) of each of their activities and voids, for the
        badge builder's dry run (the order does not change what the criteria engine decides)."""
        a = t.ActivityRow
        async with self._session() as s:
            rows = await s.execute(
                select(a.recipient_key, a.event_id, a.data)
                .where(a.org_id == org_id, a.data.is_not(None))
                .order_by(a.recipient_key, a.at, a.event_id)
            )
            histories: dict[str, list[tuple[str, ActivityData]]] = {}
            for key, event_id, data in rows.all():
                record = ActivityRecordValue.model_validate(data).root
                histories.setdefault(key, []).append((event_id, record))
        return histories

    async def volunteer_page(self, org_id: str, query: VolunteerQuery) -> VolunteerPage:
        """One page of the organisation's volunteers matching the search, in the asked order
        (name: natural order; recent: latest activity first; closest: nearest to a badge first)."""
        r, p = t.Recipient, t.ProgressView
        where = [r.org_id == org_id]
        if query.search.strip():
            pattern = _like(query.search.strip())
            where.append(
                or_(
                    func.lower(r.email).like(pattern, escape="\\"),
                    func.lower(func.coalesce(r.name, "")).like(pattern, escape="\\"),
                )
            )
        closest = func.coalesce(p.closest, 0.0)
        # PostgreSQL's locale collations skip spaces and fold accents: the key is ordered bytewise
        by_name = r.sort_name.collate("C") if self.engine.dialect.name == "postgresql" else r.sort_name
        never = case((r.last_activity_at.is_(None), 1), else_=0)  # no activity yet: last
        order = {
            "name": [by_name, r.recipient_key],
            "recent": [never, r.last_activity_at.desc(), by_name, r.recipient_key],
            "closest": [closest.desc(), by_name, r.recipient_key],
        }[query.sort]
        joined = and_(p.org_id == r.org_id, p.recipient_key == r.recipient_key)
        async with self._session() as s:
            total = await s.scalar(select(func.count()).select_from(r).where(*where))
            rows = await s.execute(
                select(r.recipient_key, r.email, r.name, r.last_activity_at, closest)
                .outerjoin(p, joined)
                .where(*where)
                .order_by(*order)
                .offset(query.offset)
                .limit(query.per_page)
            )
            found = [VolunteerRow(*row) for row in rows.all()]
        return VolunteerPage(total or 0, found, query)

    async def progress_of(self, org_id: str, recipient_keys: Sequence[str]) -> dict[str, list[BadgeProgress]]:
        """recipient_key -> their progress, for one page of the list."""
        p = t.ProgressView
        async with self._session() as s:
            rows = await s.scalars(select(p).where(p.org_id == org_id, p.recipient_key.in_(recipient_keys)))
            return {r.recipient_key: [BadgeProgress.model_validate(b) for b in r.badges] for r in rows.all()}

    async def credentials_of(self, org_id: str, recipient_keys: Sequence[str]) -> list[CredentialRecord]:
        """The credentials of these people, oldest first, for one page of the list."""
        c = t.Credential
        async with self._session() as s:
            rows = await s.scalars(
                select(c)
                .where(c.org_id == org_id, c.recipient_key.in_(recipient_keys))
                .order_by(c.issued_at, c.id)
            )
            return [record(CredentialRecord, row) for row in rows.all()]

    async def badge_stats(self, org_id: str) -> dict[str, BadgeStats]:
        """badge_class_id -> its counts, for the overview."""
        c, n, k = t.Credential, t.Notification, t.ClaimToken
        live = c.status != "revoked"
        claimed = select(k.credential_id).where(k.claimed_at.is_not(None))
        async with self._session() as s:
            rows = await s.execute(
                select(
                    c.badge_class_id,
                    func.sum(case((live, 1), else_=0)),
                    func.sum(case((and_(live, c.id.in_(claimed)), 1), else_=0)),
                    func.sum(case((and_(live, n.status == "bounced"), 1), else_=0)),
                    func.sum(case((and_(live, n.status == "failed"), 1), else_=0)),
                    func.sum(case((live, 0), else_=1)),
                )
                .outerjoin(n, n.credential_id == c.id)
                .where(c.org_id == org_id)
                .group_by(c.badge_class_id)
            )
            return {row[0]: BadgeStats(*(int(x or 0) for x in row[1:])) for row in rows.all()}


def _entry(row: t.ActivityRow) -> ActivityEntry:
    return ActivityEntry(
        event_id=row.event_id,
        recipient_key=row.recipient_key,
        kind=row.kind,
        at=row.at,
        seconds=row.seconds,
        label=row.label,
        voids=row.voids,
        reason=row.reason,
        voided_by=row.voided_by,
        void_reason=row.void_reason,
    )
