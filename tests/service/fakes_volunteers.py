"""The fake store's volunteer list, activity history and badge counts (ports.VolunteerStore),
mixed into FakeStore; held to the real store's answers by test_volunteer_store_agrees.py."""

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cairn.domain.records import CredentialRecord, NotificationRecord, RecipientRecord
from cairn.domain.volunteers import (
    ActivityEntry,
    BadgeStats,
    VolunteerPage,
    VolunteerQuery,
    VolunteerRow,
    closeness,
    natural_key,
)
from schemas.activity import ActivityData
from schemas.awards import BadgeProgress, ProgressUpdated

HISTORY_LIMIT = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FakeVolunteers:
    people: dict[tuple[str, str], RecipientRecord]
    progress_: dict[tuple[str, str], ProgressUpdated]
    credentials_: dict[str, CredentialRecord]
    notifications_: dict[str, NotificationRecord]
    claim_tokens: dict[str, Any]

    @property
    def activities_(self) -> dict[tuple[str, str, str], ActivityEntry]:
        if "_activities" not in self.__dict__:
            self.__dict__["_activities"] = {}
        return self.__dict__["_activities"]

    @activities_.setter
    def activities_(self, value: dict[tuple[str, str, str], ActivityEntry]) -> None:
        self.__dict__["_activities"] = value

    async def record_activities(self, org_id: str, entries: Sequence[ActivityEntry]) -> None:
        for e in entries:
            self.activities_.setdefault((org_id, e.recipient_key, e.event_id), e)
        for (org, key, _), void in list(self.activities_.items()):
            target = self.activities_.get((org, key, void.voids or ""))
            if org == org_id and void.voids and target:
                self.activities_[org, key, target.event_id] = dataclasses.replace(
                    target, voided_by=void.event_id, void_reason=void.reason
                )

    async def activity_history(self, org_id: str, recipient_key: str) -> list[ActivityEntry]:
        mine = [e for (o, k, _), e in self.activities_.items() if (o, k) == (org_id, recipient_key)]
        mine.sort(key=lambda e: e.event_id)
        mine.sort(key=lambda e: e.at, reverse=True)
        return mine[:HISTORY_LIMIT]

    async def activity(
        self, org_id: str, event_id: str, recipient_key: str | None = None
    ) -> ActivityEntry | None:
        found = sorted(
            (k, e)
            for (o, k, i), e in self.activities_.items()
            if (o, i) == (org_id, event_id) and recipient_key in (None, k)
        )
        return found[0][1] if found else None

    async def activity_histories(self, org_id: str) -> dict[str, list[tuple[str, ActivityData]]]:
        rows = sorted(
            (k, e.at, i, e.data)
            for (o, k, i), e in self.activities_.items()
            if o == org_id and e.data is not None
        )
        histories: dict[str, list[tuple[str, ActivityData]]] = {}
        for key, _, event_id, data in rows:
            histories.setdefault(key, []).append((event_id, data))
        return histories

    def _last_activity(self, org_id: str) -> dict[str, Any]:
        latest: dict[str, Any] = {}
        for (o, _, _), e in self.activities_.items():
            if o == org_id and not e.voids and e.at > latest.get(e.recipient_key, _EPOCH):
                latest[e.recipient_key] = e.at
        return latest

    async def volunteer_page(self, org_id: str, query: VolunteerQuery) -> VolunteerPage:
        latest = self._last_activity(org_id)
        needle = query.search.strip().casefold()
        rows = [
            VolunteerRow(
                p.recipient_key,
                p.email,
                p.name,
                latest.get(p.recipient_key),
                closeness(self.progress_[org_id, p.recipient_key].badges)
                if (org_id, p.recipient_key) in self.progress_
                else 0.0,
            )
            for p in self.people.values()
            if p.org_id == org_id and (needle in p.email.casefold() or needle in (p.name or "").casefold())
        ]
        rows.sort(key=lambda r: (natural_key(r.name or r.email), r.recipient_key))
        if query.sort == "recent":
            rows.sort(key=lambda r: (r.last_activity_at is None, -(r.last_activity_at or _EPOCH).timestamp()))
        elif query.sort == "closest":
            rows.sort(key=lambda r: -r.closest)
        window = rows[query.offset : query.offset + query.per_page]
        return VolunteerPage(len(rows), window, query)

    async def progress_of(self, org_id: str, recipient_keys: Sequence[str]) -> dict[str, list[BadgeProgress]]:
        return {k: self.progress_[org_id, k].badges for k in recipient_keys if (org_id, k) in self.progress_}

    async def credentials_of(self, org_id: str, recipient_keys: Sequence[str]) -> list[CredentialRecord]:
        mine = [
            c for c in self.credentials_.values() if c.org_id == org_id and c.recipient_key in recipient_keys
        ]
        return sorted(mine, key=lambda c: (c.issued_at, c.id))

    async def badge_stats(self, org_id: str) -> dict[str, BadgeStats]:
        claimed = {t.credential_id for t in self.claim_tokens.values() if t.claimed_at is not None}
        counts: dict[str, dict[str, int]] = {}
        for c in self.credentials_.values():
            if c.org_id != org_id:
                continue
            n = counts.setdefault(c.badge_class_id, dict.fromkeys(BadgeStats.__dataclass_fields__, 0))
            if c.status == "revoked":
                n["revoked"] += 1
                continue
            n["awarded"] += 1
            n["claimed"] += c.id in claimed
            status = self.notifications_[c.id].status if c.id in self.notifications_ else None
            n["bounced"] += status == "bounced"
            n["failed"] += status == "failed"
        return {badge: BadgeStats(**n) for badge, n in counts.items()}
