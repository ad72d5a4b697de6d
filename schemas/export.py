"""Writes the JSON Schema of every contract to schemas/json/ (run: python -m schemas.export)."""

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.activity import (
    ActivityRecordValue,
    ActivityVoidedIn,
    EventBatchIn,
    EventsAccepted,
    VolunteerShiftIn,
    WorkshopAttendanceIn,
)
from schemas.admin import (
    CredentialSummary,
    RecipientProgress,
    ResendAccepted,
    StatusChangeIn,
    VerificationResult,
)
from schemas.awards import (
    AwardGranted,
    AwardQuestioned,
    ClaimEmailResendRequested,
    CredentialIssued,
    ProgressUpdated,
)
from schemas.badge_class import BadgeClass, BadgeClassIn
from schemas.direct_awards import DirectAwardAccepted, DirectAwardIn
from schemas.envelope import CloudEvent
from schemas.webhooks import (
    CredentialChanged,
    WebhookAttemptDue,
    WebhookDeliveryOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookPayload,
)

SCHEMA_DIR = Path(__file__).parent / "json"

CONTRACTS: dict[str, type[BaseModel]] = {
    "VolunteerShiftIn": VolunteerShiftIn,
    "WorkshopAttendanceIn": WorkshopAttendanceIn,
    "ActivityVoidedIn": ActivityVoidedIn,
    "EventBatchIn": EventBatchIn,
    "EventsAccepted": EventsAccepted,
    "BadgeClassIn": BadgeClassIn,
    "activity.Activity": CloudEvent[ActivityRecordValue],
    "badge-classes.BadgeClass": CloudEvent[BadgeClass],
    "awards.AwardGranted": CloudEvent[AwardGranted],
    "award-questions.AwardQuestioned": CloudEvent[AwardQuestioned],
    "credentials.CredentialIssued": CloudEvent[CredentialIssued],
    "claim-email-resends.ClaimEmailResendRequested": CloudEvent[ClaimEmailResendRequested],
    "progress.ProgressUpdated": CloudEvent[ProgressUpdated],
    "RecipientProgress": RecipientProgress,
    "CredentialSummary": CredentialSummary,
    "StatusChangeIn": StatusChangeIn,
    "ResendAccepted": ResendAccepted,
    "VerificationResult": VerificationResult,
    "DirectAwardIn": DirectAwardIn,
    "DirectAwardAccepted": DirectAwardAccepted,
    "credential-changes.CredentialChanged": CloudEvent[CredentialChanged],
    "webhook-deliveries.WebhookAttemptDue": CloudEvent[WebhookAttemptDue],
    "WebhookEndpointIn": WebhookEndpointIn,
    "WebhookEndpointOut": WebhookEndpointOut,
    "WebhookDeliveryOut": WebhookDeliveryOut,
    "WebhookPayload": WebhookPayload,
}


def render() -> dict[str, str]:
    """File name -> JSON Schema text, for every contract."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in CONTRACTS.items()
    }


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for stale in SCHEMA_DIR.glob("*.schema.json"):
        stale.unlink()
    for file_name, text in render().items():
        (SCHEMA_DIR / file_name).write_text(text)
    print(f"wrote {len(CONTRACTS)} schemas to {SCHEMA_DIR}")


if __name__ == "__main__":
    main()
