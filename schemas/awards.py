"""The records of awarding and issuing: AwardGranted (cairn.awards.v1), AwardQuestioned,
ProgressUpdated, CredentialIssued (cairn.credentials.v1) and the ClaimEmailResendRequested
command (cairn.claim-email-resends.v1)."""

import uuid
from datetime import datetime
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.text import ParagraphText

# Fixed namespace so award and credential ids are the same on every worker and every replay.
AWARD_NAMESPACE = uuid.UUID("5b0f3c8e-6c1d-4c55-9d9e-2f1d6a0c7a11")


def award_id_for(org_id: str, badge_class_id: str, recipient_key: str, occurrence: int) -> str:
    return str(uuid.uuid5(AWARD_NAMESPACE, f"{org_id}:{badge_class_id}:{recipient_key}:{occurrence}"))


def direct_award_id_for(org_id: str, badge_class_id: str, recipient_key: str, idempotency_key: str) -> str:
    """A direct award's id: the same for the same key and person, so a repeated post is one award."""
    return str(
        uuid.uuid5(AWARD_NAMESPACE, f"direct:{org_id}:{badge_class_id}:{recipient_key}:{idempotency_key}")
    )


def credential_id_for(award_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(AWARD_NAMESPACE, 'credential:' + award_id)}"


def credential_id_from(given: str) -> str:
    """The credential id for what a route or command was given: the full `urn:uuid:…` id the
    API returns, or its bare uuid (any case). Anything else maps to an id that names nothing."""
    bare = given[len("urn:uuid:") :] if given.lower().startswith("urn:uuid:") else given
    try:
        bare = str(uuid.UUID(bare))
    except ValueError:
        pass
    return f"urn:uuid:{bare}"


class Evidence(BaseModel):
    """The figures that met the criteria, stated in the credential."""

    model_config = ConfigDict(extra="forbid")

    measure: str = Field(
        description="What was measured: hours, activities, distinct sessions (days, sites, programs, "
        "series), consecutive weeks or badges held."
    )
    achieved: float = Field(description="Hours are rounded down to the hundredth; `seconds` is exact.")
    required: float
    seconds: int | None = Field(
        default=None,
        ge=0,
        description="For hours: the time counted, in whole seconds.",
        exclude_if=lambda value: value is None,
    )
    badges: list[str] | None = Field(
        default=None,
        description="For badges held: the names of those held.",
        exclude_if=lambda value: value is None,
    )


class AwardGranted(BaseModel):
    """What the signer needs to issue the credential: whose, which class at which version, which
    occurrence, when it was earned and the figures that met the criteria."""

    model_config = ConfigDict(extra="forbid")

    award_id: str
    org_id: str
    badge_class_id: str
    badge_class_version: int
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    occurrence: int = Field(ge=1)
    earned_at: AwareDatetime = Field(description="Event time of the activity that met the criteria.")
    evidence: list[Evidence] = Field(description="Empty only for a direct award, which has a narrative.")
    narrative: ParagraphText | None = Field(
        default=None,
        max_length=2000,
        description="A direct award's reason, from the coordinator: the credential's evidence.",
        exclude_if=lambda value: value is None,
    )

    @model_validator(mode="after")
    def _has_evidence(self) -> Self:
        if not self.evidence and self.narrative is None:
            raise ValueError("an award needs evidence figures or a narrative")
        return self


class AwardQuestioned(BaseModel):
    """On cairn.award-questions.v1: an award whose criteria no longer hold (an activity was
    voided). Nothing is revoked automatically; the organisation decides."""

    model_config = ConfigDict(extra="forbid")

    award_id: str
    org_id: str
    badge_class_id: str
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    reason: str
    evidence: list[Evidence] = Field(description="The figures as they stand now.")


class CredentialIssued(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential_id: str
    award_id: str
    org_id: str
    badge_class_id: str
    recipient_key: str
    issued_at: datetime


class ClaimEmailResendRequested(BaseModel):
    """On cairn.claim-email-resends.v1: a command to the notifier to email the earner a new claim
    link. Each resend asks for the next claim generation; the notifier sends each generation
    once, and links of earlier generations stop working."""

    model_config = ConfigDict(extra="forbid")

    credential_id: str
    org_id: str
    recipient_key: str
    claim_generation: int = Field(ge=1, description="1 for the first resend, then 2, 3...")


class BadgeProgress(BaseModel):
    badge_class_id: str
    badge_class_version: int
    name: str
    awarded: bool
    questioned: bool
    figures: list[Evidence] = Field(description="Each measured figure against its requirement.")


class ProgressUpdated(BaseModel):
    """On the compacted topic cairn.progress.v1, keyed org:recipient_key: where a recipient
    stands toward each of the organisation's badges. Derived data: the latest record wins."""

    model_config = ConfigDict(extra="forbid")

    org_id: str
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    as_of: datetime
    badges: list[BadgeProgress]
    pending_voids: list[str] = Field(
        default_factory=list,
        description="Ids of activities a void took back before they arrived: the void waits for them.",
    )
