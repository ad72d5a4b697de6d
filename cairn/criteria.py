"""The criteria engine: folds activity into a recipient's progress and says which awards are due.

Pure functions, no I/O: the aggregator, `cairn criteria check` and the tests all run this code.
A recipient's Progress holds every counted activity by event id, so a duplicate counts once and
the figures are recomputed in event time whatever order the events arrived in.
"""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.activity import VolunteerShiftLogged, event_time
from schemas.awards import AwardGranted, Evidence, award_id_for
from schemas.badge_class import ActivityFilter, BadgeClass, TotalHours


class ActivityRecord(BaseModel):
    """What the engine keeps of one activity: enough to evaluate criteria, no personal data."""

    at: datetime
    hours: float
    program: str | None = None
    role: str | None = None
    site: str | None = None


class Progress(BaseModel):
    """One recipient's state within one organisation: the value of the aggregator's table."""

    activities: dict[str, ActivityRecord] = Field(default_factory=dict)
    awarded: dict[str, int] = Field(default_factory=dict, description="badge class -> occurrences")
    checked: dict[str, int] = Field(
        default_factory=dict, description="badge class -> the version this progress was last evaluated under"
    )


class Evaluation(BaseModel):
    met: bool
    evidence: Evidence
    event_ids: list[str]
    earned_at: datetime | None


def record_shift(progress: Progress, event_id: str, shift: VolunteerShiftLogged) -> Progress | None:
    """The progress with this shift counted, or None when the event id was already counted."""
    if event_id in progress.activities:
        return None
    record = ActivityRecord(
        at=event_time(shift),
        hours=shift.duration_hours,
        program=shift.program,
        role=shift.role,
        site=shift.site,
    )
    return progress.model_copy(update={"activities": {**progress.activities, event_id: record}})


def _matches(record: ActivityRecord, wanted: ActivityFilter) -> bool:
    return all(
        getattr(wanted, field) is None or getattr(wanted, field) == getattr(record, field)
        for field in ActivityFilter.model_fields
    )


def evaluate(criterion: TotalHours, progress: Progress) -> Evaluation:
    """Adds matching hours in event time; earned_at is when the running total reached the goal."""
    matching = sorted(
        ((eid, r) for eid, r in progress.activities.items() if _matches(r, criterion.filter)),
        key=lambda item: (item[1].at, item[0]),
    )
    total = 0.0
    earned_at = None
    for _, record in matching:
        total += record.hours
        if earned_at is None and total >= criterion.at_least - 1e-9:
            earned_at = record.at
    return Evaluation(
        met=earned_at is not None,
        evidence=Evidence(measure="hours", achieved=round(total, 4), required=criterion.at_least),
        event_ids=[eid for eid, _ in matching],
        earned_at=earned_at,
    )


def awards_due(progress: Progress, badge_classes: list[BadgeClass], recipient_key: str) -> list[AwardGranted]:
    """Awards this progress has earned and not yet been granted (each badge once, for now)."""
    due = []
    for badge in badge_classes:
        if progress.awarded.get(badge.id, 0) >= 1:
            continue
        result = evaluate(badge.criteria, progress)
        if not result.met:
            continue
        assert result.earned_at is not None
        due.append(
            AwardGranted(
                award_id=award_id_for(badge.org_id, badge.id, recipient_key, 1),
                org_id=badge.org_id,
                badge_class_id=badge.id,
                badge_class_version=badge.version,
                recipient_key=recipient_key,
                occurrence=1,
                earned_at=result.earned_at,
                evidence=result.evidence,
                event_ids=result.event_ids,
            )
        )
    return due


def settle(
    progress: Progress, badge_classes: list[BadgeClass], recipient_key: str
) -> tuple[Progress, list[AwardGranted]]:
    """The awards now due, and the progress that records them and the class versions checked."""
    awards = awards_due(progress, badge_classes, recipient_key)
    awarded = dict(progress.awarded)
    for award in awards:
        awarded[award.badge_class_id] = max(awarded.get(award.badge_class_id, 0), award.occurrence)
    # Exactly the versions just evaluated: a class missing from `badge_classes` (not loaded yet)
    # must read as unchecked, so that the re-evaluation after it loads does not skip this recipient.
    checked = {badge.id: badge.version for badge in badge_classes}
    return progress.model_copy(update={"awarded": awarded, "checked": checked}), awards


def needs_check(progress: Progress, badge: BadgeClass) -> bool:
    return progress.checked.get(badge.id) != badge.version
