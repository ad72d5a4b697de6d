"""Outbound webhooks: the Kafka records that drive deliveries (CredentialChanged on
cairn.credential-changes.v1; WebhookAttemptDue on cairn.webhook-deliveries.v1 and the retry
tiers), the API bodies of /v1/webhooks, and the payload an endpoint receives. The records carry
ids only: a payload (which may hold an email when the organisation asks) stays in the store."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EventType = Literal[
    "credential.issued",
    "credential.claimed",
    "credential.revoked",
    "credential.suspended",
    "award.questioned",
]


class CredentialChanged(BaseModel):
    """On cairn.credential-changes.v1: a credential was claimed (first opening of its claim
    link), revoked or suspended; published by whoever made the change (gateway, CLI)."""

    model_config = ConfigDict(extra="forbid")

    credential_id: str
    org_id: str
    change: Literal["claimed", "revoked", "suspended"]
    at: AwareDatetime


class WebhookAttemptDue(BaseModel):
    """On cairn.webhook-deliveries.v1 (attempt 1 and replays) or retry tier N (attempt N+1): try
    this delivery once `due_at` has come. Ids only; the payload is in the store."""

    model_config = ConfigDict(extra="forbid")

    delivery_id: str
    org_id: str
    endpoint_id: str
    attempt: int = Field(ge=1)
    due_at: AwareDatetime


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://rota.example.org/hooks/cairn",
                    "events": ["credential.issued", "credential.claimed"],
                    "include_email": False,
                    "description": "Rota tool: mark badges on volunteer profiles",
                }
            ]
        },
    )

    url: str = Field(max_length=500, description="https:// URL the events are POSTed to")
    events: list[EventType] = Field(min_length=1, description="The event types to send")
    include_email: bool = Field(
        False, description="Put the volunteer's email in payloads (off: ids and badge data only)"
    )
    description: str = Field("", max_length=200)


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    include_email: bool
    description: str
    created_at: datetime
    disabled: bool
    secret: str | None = Field(
        None, description="whsec_… signing secret: returned once, when the endpoint is created"
    )


class WebhookAttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; null: no answer")
    answer: str = Field(description="The start of the endpoint's answer, or why there was none")
    duration_ms: int


class WebhookDeliveryOut(BaseModel):
    id: str
    endpoint_id: str
    message_id: str = Field(description="The webhook-id header: the same on retries and replays")
    event_type: str
    status: Literal["pending", "retrying", "delivered", "failed"]
    attempts: list[WebhookAttemptOut]
    created_at: datetime
    next_attempt_at: datetime | None
    replay_of: str | None


class WebhookPayload(BaseModel):
    """What an endpoint receives (the body that is signed)."""

    type: EventType
    timestamp: datetime
    data: dict[str, Any]
