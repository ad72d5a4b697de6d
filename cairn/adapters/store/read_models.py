"""What the gateway derives from Kafka for its pages and API: progress views, award questions,
and counts; each a projection a redelivered record leaves unchanged."""

from sqlalchemy import func, select

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from cairn.adapters.store.records import record
from cairn.domain.records import QuestionRecord
from cairn.domain.volunteers import closeness
from schemas.awards import AwardQuestioned, BadgeProgress, ProgressUpdated


class ReadModelTables(StoreBase):
    # award questions (derived from cairn.award-questions.v1)

    async def save_question(self, question: AwardQuestioned) -> None:
        """Keeps the first record of a question; a redelivery changes nothing, nor a decision."""
        async with self._session.begin() as s:
            await s.execute(
                self._insert(t.AwardQuestionRow)
                .values(
                    award_id=question.award_id,
                    org_id=question.org_id,
                    badge_class_id=question.badge_class_id,
                    recipient_key=question.recipient_key,
                    reason=question.reason[:500],
                    evidence=[e.model_dump(mode="json") for e in question.evidence],
                    questioned_at=now(),
                    decision=None,
                )
                .on_conflict_do_nothing(index_elements=[t.AwardQuestionRow.award_id])
            )

    async def questions(self, org_id: str) -> list[QuestionRecord]:
        async with self._session() as s:
            rows = await s.scalars(
                select(t.AwardQuestionRow)
                .where(t.AwardQuestionRow.org_id == org_id)
                .order_by(t.AwardQuestionRow.questioned_at)
            )
            return [record(QuestionRecord, row) for row in rows.all()]

    async def decide_question(self, org_id: str, award_id: str, decision: str) -> bool:
        async with self._session.begin() as s:
            row = await s.get(t.AwardQuestionRow, award_id)
            if row is None or row.org_id != org_id:
                return False
            row.decision = decision
        return True

    # progress (derived from cairn.progress.v1)

    async def save_progress(self, update: ProgressUpdated) -> None:
        """Keeps the newest update per recipient; an older one redelivered changes nothing."""
        badges = [b.model_dump(mode="json") for b in update.badges]
        async with self._session.begin() as s:
            row = await s.get(t.ProgressView, (update.org_id, update.recipient_key))
            if row is None:
                s.add(
                    t.ProgressView(
                        org_id=update.org_id,
                        recipient_key=update.recipient_key,
                        as_of=update.as_of,
                        badges=badges,
                        pending_voids=update.pending_voids,
                        closest=closeness(update.badges),
                    )
                )
            elif update.as_of >= row.as_of:
                row.as_of, row.badges, row.pending_voids = update.as_of, badges, update.pending_voids
                row.closest = closeness(update.badges)

    async def progress(self, org_id: str, recipient_key: str) -> ProgressUpdated | None:
        async with self._session() as s:
            row = await s.get(t.ProgressView, (org_id, recipient_key))
        if row is None:
            return None
        return ProgressUpdated(
            org_id=org_id,
            recipient_key=recipient_key,
            as_of=row.as_of,
            badges=[BadgeProgress.model_validate(b) for b in row.badges],
            pending_voids=row.pending_voids or [],
        )

    async def progress_views(self, org_id: str) -> dict[str, list[BadgeProgress]]:
        """recipient_key -> their progress toward each badge, for the whole organisation."""
        async with self._session() as s:
            rows = await s.scalars(select(t.ProgressView).where(t.ProgressView.org_id == org_id))
            return {r.recipient_key: [BadgeProgress.model_validate(b) for b in r.badges] for r in rows.all()}

    # counts

    async def award_counts(self, org_id: str) -> dict[str, int]:
        """badge_class_id -> how many credentials the organisation has issued for it."""
        async with self._session() as s:
            rows = await s.execute(
                select(t.Credential.badge_class_id, func.count())
                .where(t.Credential.org_id == org_id)
                .group_by(t.Credential.badge_class_id)
            )
            return {badge_id: count for badge_id, count in rows.all()}
