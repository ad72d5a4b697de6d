"""Builds the unsigned Open Badges 3.0 OpenBadgeCredential for an award (pure)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cairn.credentials.contexts import OB_V3P0, VC_V2
from cairn.identity import identity_hash
from schemas.awards import AwardGranted
from schemas.badge_class import BadgeClass


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def achievement_id(public_url: str, org_slug: str, badge_class_id: str) -> str:
    return f"{public_url}/orgs/{org_slug}/badges/{badge_class_id}"


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
) -> dict[str, Any]:
    """`status`: the credentialStatus entries (status_list.status_entries), if any."""
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
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_V3P0],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.as_json(),
        "validFrom": iso(issued_at),
        "name": badge.name,
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
        "evidence": [
            {
                "type": ["Evidence"],
                "name": f"{figure.achieved:g} {figure.measure}",
                "description": (
                    f"{figure.achieved:g} {figure.measure} against a requirement of "
                    f"{figure.required:g} (criteria version {award.badge_class_version}), "
                    f"met on {award.earned_at:%-d %B %Y}."
                ),
            }
            for figure in award.evidence
        ],
    }
    if status:
        credential["credentialStatus"] = status
    if badge.expires_after_days:
        credential["validUntil"] = iso(issued_at + timedelta(days=badge.expires_after_days))
    return credential
