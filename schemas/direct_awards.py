"""Direct awards: a coordinator awards a badge to named people with a narrative, without
criteria (`POST /v1/badge-classes/{id}/awards`). The awards go onto cairn.awards.v1 like the
criteria engine's, so signing, storing and emailing are the same path."""

from typing import Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from schemas.text import LanguageTag, ParagraphText, PlainText

IDEMPOTENCY_KEY = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
MAX_RECIPIENTS = 1000

DIRECT_AWARD_EXAMPLE = {
    "recipients": [
        {"email": "sam@example.org", "name": "Sam Okafor"},
        {"email": "ana@example.org", "name": "Ana Lima"},
    ],
    "narrative": "Ran the Saturday pantry all winter, and trained six new volunteers.",
    "idempotency_key": "volunteer-of-the-year-2026",
}


class DirectRecipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: PlainText | None = Field(default=None, max_length=200)
    language: LanguageTag | None = Field(
        default=None,
        description="BCP 47 tag of the language this person reads (the claim email and pages); "
        "remembered per person. Default: the organisation's language.",
    )


class DirectAwardIn(BaseModel):
    """POST /v1/badge-classes/{id}/awards body. The idempotency key names this award: posting
    it again (a retry, a double click, after a restart) issues nothing more."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DIRECT_AWARD_EXAMPLE]})

    recipients: list[DirectRecipient] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    narrative: ParagraphText = Field(
        min_length=1, max_length=2000, description="Why they receive it: the credential's evidence."
    )
    idempotency_key: str = Field(
        pattern=IDEMPOTENCY_KEY,
        description="Chosen by the caller, unique per organisation; the same key and body again "
        "issue nothing new, the same key with another body is a 409.",
    )

    @model_validator(mode="after")
    def _each_person_once(self) -> Self:
        seen: dict[str, int] = {}
        for index, person in enumerate(self.recipients):
            address = person.email.strip().lower()
            if address in seen:
                raise ValueError(
                    f"recipients[{index}] has the same email as recipients[{seen[address]}]: {address}"
                )
            seen[address] = index
        return self


class DirectAwardMade(BaseModel):
    email: str
    award_id: str
    credential_id: str = Field(description="The credential's id once the signer has issued it.")


class DirectAwardAccepted(BaseModel):
    """The answer: each recipient's award and credential id, and whether this key was seen before."""

    badge_class_id: str
    idempotency_key: str
    replayed: bool = Field(description="True if this key was posted before: nothing new was issued.")
    awards: list[DirectAwardMade]
