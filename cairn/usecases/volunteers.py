"""A volunteer as the coordinator's page shows them, and taking back one of their activities
from there (a void posted through intake, as the API's would be)."""

from dataclasses import dataclass

from cairn.domain.records import CredentialRecord, NotificationRecord, Org, RecipientContact
from cairn.domain.volunteers import ActivityEntry, ProgressItem, progress_items, void_id_for
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from cairn.usecases.intake import accept_events
from schemas.activity import ActivityVoidedIn


@dataclass(frozen=True)
class IssuedBadge:
    credential: CredentialRecord
    badge_name: str
    email: NotificationRecord | None


@dataclass(frozen=True)
class VolunteerDetail:
    recipient_key: str
    contact: RecipientContact
    history: list[ActivityEntry]
    progress: list[ProgressItem]
    pending_voids: list[str]
    issued: list[IssuedBadge]


async def volunteer_detail(store: Store, org: Org, recipient_key: str) -> VolunteerDetail | None:
    contact = await store.recipient(org.id, recipient_key)
    if contact is None:
        return None
    classes = await store.badge_classes(org.id)
    names = {c.id: c.name for c in classes}
    progress = await store.progress(org.id, recipient_key)
    credentials = await store.credentials(org.id, recipient_key=recipient_key)
    emails = await store.notifications([c.id for c in credentials])
    return VolunteerDetail(
        recipient_key=recipient_key,
        contact=contact,
        history=await store.activity_history(org.id, recipient_key),
        progress=progress_items(progress.badges if progress else [], classes),
        pending_voids=progress.pending_voids if progress else [],
        issued=[
            IssuedBadge(
                c, names.get(c.badge_class_id) or str(c.document.get("name", "a badge")), emails.get(c.id)
            )
            for c in sorted(credentials, key=lambda c: c.issued_at, reverse=True)
        ],
    )


class CannotVoid(ValueError):
    """The activity is not this person's, is a void itself, or was taken back already."""


async def void_activity(
    store: Store,
    publisher: Publisher,
    org: Org,
    recipient_key: str,
    event_id: str,
    reason: str,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """Posts the void of one of the person's activities; returns the void's id."""
    entry = await store.activity(org.id, event_id, recipient_key)
    contact = await store.recipient(org.id, recipient_key)
    if entry is None or contact is None or entry.recipient_key != recipient_key:
        raise CannotVoid("no such activity for this volunteer")
    if entry.voids:
        raise CannotVoid("a void cannot be voided; post the activity again instead")
    if entry.voided_by:
        raise CannotVoid("this activity was taken back already")
    void = ActivityVoidedIn.model_validate(
        {
            "id": void_id_for(event_id),
            "type": "activity_voided",
            "voids": event_id,
            "reason": reason,
            "volunteer": {"email": contact.email},
        }
    )
    await accept_events(store, publisher, org, [void], clock)
    return void.id
