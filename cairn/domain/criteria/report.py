"""The progress report: where a recipient stands toward each badge, for a progress bar."""

from cairn.domain.criteria.awards import evidence
from cairn.domain.criteria.evaluation import Replay, evaluate, zone_of
from cairn.domain.criteria.progress import Progress
from cairn.domain.criteria.standing import Standing
from schemas.awards import BadgeProgress
from schemas.badge_class import BadgeClass


def progress_report(progress: Progress | Standing, badge_classes: list[BadgeClass]) -> list[BadgeProgress]:
    """Where the recipient stands toward each badge: the figures a progress bar shows."""
    names = {badge.id: badge.name for badge in badge_classes}
    view = progress.view() if isinstance(progress, Standing) else Replay(progress)
    return [
        BadgeProgress(
            badge_class_id=badge.id,
            badge_class_version=badge.version,
            name=badge.name,
            awarded=bool(progress.awarded.get(badge.id)),
            questioned=badge.id in progress.questioned,
            figures=evidence(evaluate(badge.criteria, view, zone_of(badge.timezone)), names),
        )
        for badge in badge_classes
        if badge.criteria is not None  # a manual-only badge has no progress toward it
    ]
