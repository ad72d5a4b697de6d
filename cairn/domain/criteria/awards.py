"""Awards due: settling a progress against the badge classes (grant what is earned, question
what a void undid), the evidence an award states, and the whole-history reference.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cairn.domain.criteria.evaluation import HELD, Replay, Result, View, evaluate, year_of, zone_of
from cairn.domain.criteria.progress import Progress, record_activity
from schemas.activity import ActivityData
from schemas.awards import AwardGranted, AwardQuestioned, Evidence, award_id_for
from schemas.badge_class import ActivityCount, BadgeClass, TotalHours

if TYPE_CHECKING:
    from cairn.domain.criteria.standing import Standing


@dataclass(frozen=True)
class Settlement:
    progress: "Progress | Standing"
    awards: list[AwardGranted]
    questions: list[AwardQuestioned]


def evidence(result: Result, names: Mapping[str, str]) -> list[Evidence]:
    """The figures as stated: hours rounded down to the hundredth (with the exact seconds), and
    every badge held in one figure with the badges' names, where the first of them stood."""
    held = [f for f in result.figures if f.measure == HELD]
    evidence = []
    for figure in result.figures:
        if figure.measure != HELD:
            evidence.append(
                Evidence(
                    measure=figure.measure,
                    achieved=math.floor(figure.achieved * 100) / 100,
                    required=float(figure.required),
                    seconds=figure.seconds,
                )
            )
        elif figure is held[0]:
            evidence.append(
                Evidence(
                    measure=HELD,
                    achieved=float(sum(f.achieved for f in held)),
                    required=float(sum(f.required for f in held)),
                    badges=[names.get(b, b) for f in held for b in f.badges],
                )
            )
    return evidence


def settle(progress: Progress, badge_classes: list[BadgeClass], recipient_key: str) -> Settlement:
    """Brings the awards in line with the activities: grants what is now earned, questions an
    award whose criteria a void has undone (never revoking it: the organisation decides), and
    clears the question when the criteria hold again (evaluated from the records: the slow path)."""
    awarded, questioned, awards, questions = settle_view(Replay(progress), badge_classes, recipient_key)
    # Exactly the versions just evaluated: a class missing from `badge_classes` (not loaded yet)
    # must read as unchecked, so that the re-evaluation after it loads does not skip this recipient.
    checked = {badge.id: badge.version for badge in badge_classes}
    updated = progress.model_copy(update={"awarded": awarded, "questioned": questioned, "checked": checked})
    return Settlement(updated, awards, questions)


def settle_view(
    view: View, badge_classes: list[BadgeClass], recipient_key: str
) -> tuple[dict[str, list[datetime]], list[str], list[AwardGranted], list[AwardQuestioned]]:
    """The settling itself, on any view of the activities: repeats until nothing changes,
    because each grant or question can open or close a pathway badge that builds on it.
    Returns the awards held and questioned after it, and what to send."""
    awarded = {k: list(v) for k, v in view.awarded.items()}
    questioned = list(view.questioned)
    view.awarded, view.questioned = awarded, questioned  # pathways see the awards as they settle
    names = {badge.id: badge.name for badge in badge_classes}
    awards: list[AwardGranted] = []
    questions: list[AwardQuestioned] = []
    for _ in range(len(badge_classes) + 1):  # a pathway can be at most this deep
        changed = False
        for badge in badge_classes:
            if badge.manual_only:  # awarded only directly, never by the engine
                continue
            earned = _newly_earned(badge, view)
            for occurrence, result in earned:
                assert result.earned_at is not None
                awarded.setdefault(badge.id, []).append(result.earned_at)
                awards.append(_award(badge, recipient_key, occurrence, result, names))
                changed = True
            if earned or not awarded.get(badge.id):
                continue
            undone, result = _undone_occurrences(badge, view)
            if badge.id in questioned:
                if not undone:
                    questioned.remove(badge.id)
                    changed = True
            elif undone:
                questioned.append(badge.id)
                award_id = award_id_for(badge.org_id, badge.id, recipient_key, undone[0])
                questions.append(_question(award_id, badge, recipient_key, result, names))
                changed = True
        if not changed:
            break
    return awarded, questioned, awards, questions


def _newly_earned(badge: BadgeClass, view: View) -> list[tuple[int, Result]]:
    """Occurrences of this badge that the activities earn and that were not awarded yet."""
    held = view.awarded.get(badge.id, [])
    zone = zone_of(badge.timezone)
    if badge.repeat is None:
        result = evaluate(badge.criteria, view, zone) if not held else None
        return [(1, result)] if result and result.met else []
    if badge.repeat == "calendar_year":  # the occurrence is the year, in the organisation's time zone
        earned = []
        years = view.years(zone) - {year_of(t, zone) for t in held}
        for year in sorted(years):
            result = evaluate(badge.criteria, view, zone, year=year)
            if result.met:
                earned.append((year, result))
        return earned
    assert isinstance(badge.criteria, TotalHours | ActivityCount)  # each_multiple, checked by the schema
    earned = []
    for occurrence in range(len(held) + 1, len(held) + 1000):
        result = evaluate(badge.criteria, view, zone, multiple=occurrence)
        if not result.met:
            break
        earned.append((occurrence, result))
    return earned


def _undone_occurrences(badge: BadgeClass, view: View) -> tuple[list[int], Result]:
    """Occurrences already awarded that the activities as they stand no longer earn (after a
    void), and the figures as they stand now."""
    held = view.awarded.get(badge.id, [])
    zone = zone_of(badge.timezone)
    result = evaluate(badge.criteria, view, zone)
    if badge.repeat == "calendar_year":
        undone = []
        for year in sorted(year_of(t, zone) for t in held):
            if not evaluate(badge.criteria, view, zone, year=year).met:
                undone.append(year)
        return undone, result
    if badge.repeat == "each_multiple":
        assert isinstance(badge.criteria, TotalHours | ActivityCount)
        earned = 0
        while earned < len(held):
            if not evaluate(badge.criteria, view, zone, multiple=earned + 1).met:
                break
            earned += 1
        return list(range(earned + 1, len(held) + 1)), result
    return ([] if result.met else [1]), result


def _award(
    badge: BadgeClass, recipient_key: str, occurrence: int, result: Result, names: Mapping[str, str]
) -> AwardGranted:
    assert result.earned_at is not None
    return AwardGranted(
        award_id=award_id_for(badge.org_id, badge.id, recipient_key, occurrence),
        org_id=badge.org_id,
        badge_class_id=badge.id,
        badge_class_version=badge.version,
        recipient_key=recipient_key,
        occurrence=occurrence,
        earned_at=result.earned_at,
        evidence=evidence(result, names),
    )


def _question(
    award_id: str, badge: BadgeClass, recipient_key: str, result: Result, names: Mapping[str, str]
) -> AwardQuestioned:
    return AwardQuestioned(
        award_id=award_id,
        org_id=badge.org_id,
        badge_class_id=badge.id,
        recipient_key=recipient_key,
        reason="the criteria are no longer met after an activity was voided",
        evidence=evidence(result, names),
    )


def needs_check(progress: Progress, badge: BadgeClass) -> bool:
    return progress.checked.get(badge.id) != badge.version


def awards_for_history(
    events: list[tuple[str, ActivityData]], badge_classes: list[BadgeClass], recipient_key: str
) -> list[AwardGranted]:
    """Everything a whole history earns, evaluated once at the end (the brute-force reference,
    and `cairn criteria check`)."""
    progress = Progress()
    for event_id, data in events:  # in any order, so nothing is compacted
        progress = record_activity(progress, event_id, data, keep=len(events) + 1) or progress
    return settle(progress, badge_classes, recipient_key).awards
