"""Builds the unsigned Open Badges 3.0 OpenBadgeCredential for an award (pure)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cairn.credentials.contexts import OB_V3P0, VC_V2
from cairn.domain.criteria import HELD, zone_of
from cairn.domain.identity import identity_hash
from schemas.awards import AwardGranted, Evidence
from schemas.badge_class import BadgeClass


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def achievement_id(public_url: str, org_slug: str, badge_class_id: str) -> str:
    return f"{public_url}/orgs/{org_slug}/badges/{badge_class_id}"


_SINGULAR = {"activities": "activity", "distinct series": "distinct series"}


def _number(value: float) -> str:
    return f"{value:g}"


def _amount(value: float, measure: str) -> str:
    """ "1 activity", "3 distinct sessions": the figure as people write it."""
    if value == 1:
        measure = _SINGULAR.get(measure, measure.removesuffix("s"))
    return f"{_number(value)} {measure}"


def hours_text(seconds: int) -> str:
    """Hours rounded to the minute, only here, for reading: "10 hours", "6.5 hours", "6 hours
    40 minutes", "20 minutes"."""
    hours, minutes = divmod(round(seconds / 60), 60)
    if minutes in (0, 30) and (hours or not minutes):
        return _amount(hours + minutes / 60, "hours")
    if not hours:
        return _amount(minutes, "minutes")
    return f"{_amount(hours, 'hours')} {_amount(minutes, 'minutes')}"


def _figure(figure: Evidence) -> str:
    if figure.measure == "hours":
        return hours_text(figure.seconds if figure.seconds is not None else round(figure.achieved * 3600))
    return _amount(figure.achieved, figure.measure)


def occurrence_label(award: AwardGranted, badge: BadgeClass) -> str | None:
    """Which occurrence of a repeating badge this is: "2026", or the multiple reached ("30 hours")."""
    if badge.repeat == "calendar_year":
        return str(award.occurrence)
    if badge.repeat == "each_multiple":
        reached = getattr(badge.criteria, "at_least", 0) * award.occurrence
        if badge.criteria.kind == "total_hours":
            return hours_text(round(reached * 3600))
        return _amount(reached, "activities")
    return None


def evidence_entries(award: AwardGranted, badge: BadgeClass) -> list[dict[str, Any]]:
    """The award's figures in the credential, as sentences: "12 hours (10 needed), earned on
    3 March 2026.", "Holds: Pantry volunteer, Food safety." A repeating badge says which
    occurrence ("For 2026: ..."). The date is in the organisation's time zone."""
    earned = award.earned_at.astimezone(zone_of(badge.timezone))
    label = occurrence_label(award, badge)
    if label is None:
        prefix = ""
    else:
        prefix = f"For {label}: " if badge.repeat == "calendar_year" else f"On reaching {label}: "
    entries = []
    for figure in award.evidence:
        if figure.measure == HELD or figure.measure.startswith("badge "):
            held = figure.badges if figure.badges is not None else [figure.measure.removeprefix("badge ")]
            name = f"Holds: {', '.join(held)}"
            description = f"{prefix}{name}."
        else:
            name = _figure(figure)
            description = f"{prefix}{name} ({_number(figure.required)} needed), earned on {earned:%-d %B %Y}."
        entries.append({"type": ["Evidence"], "name": name, "description": description})
    if award.narrative is not None:  # a direct award: the coordinator's reason is the evidence
        entries.append(
            {
                "type": ["Evidence"],
                "name": "Awarded directly",
                "narrative": award.narrative,
                "description": f"Awarded on {earned:%-d %B %Y}.",
            }
        )
    return entries


@dataclass(frozen=True)
class IssuerProfile:
    id: str
    name: str
    url: str | None = None
    email: str | None = None
    image: str | None = None

    def as_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        if self.url:
            profile["url"] = self.url
        if self.email:
            profile["email"] = self.email
        if self.image:
            profile["image"] = {"id": self.image, "type": "Image", "caption": f"{self.name} logo"}
        return profile


def build_credential(
    *,
    credential_id: str,
    award: AwardGranted,
    badge: BadgeClass,
    issuer: IssuerProfile,
    org_slug: str,
    recipient_email: str,
    recipient_salt: str,
    public_url: str,
    issued_at: datetime,
    status: list[dict[str, Any]] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """`status`: the credentialStatus entries (status_list.status_entries), if any. `language`:
    the BCP 47 tag of the badge's own texts (the organisation's language), as the achievement's
    `inLanguage` (schema.org's term, in the OB 3.0 context's Achievement)."""
    achievement: dict[str, Any] = {
        "id": achievement_id(public_url, org_slug, badge.id),
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.description,
        "criteria": {"narrative": badge.criteria_narrative},
    }
    if badge.image:
        achievement["image"] = {"id": str(badge.image), "type": "Image", "caption": badge.name}
    if badge.tags:
        achievement["tag"] = list(badge.tags)
    if language:
        achievement["inLanguage"] = language
    label = occurrence_label(award, badge)
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_V3P0],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.as_json(),
        "validFrom": iso(issued_at),
        "name": badge.name if label is None else f"{badge.name} ({label})",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": identity_hash(recipient_email, recipient_salt),
                    "identityType": "emailAddress",
                    "salt": recipient_salt,
                }
            ],
            "achievement": achievement,
        },
        "evidence": evidence_entries(award, badge),
    }
    if status:
        credential["credentialStatus"] = status
    if badge.expires_after_days:
        credential["validUntil"] = iso(issued_at + timedelta(days=badge.expires_after_days))
    return credential
