"""The steps of the pipeline as the service tier runs them: events in through intake, the
criteria engine over each recipient's history (what the aggregator does per record), the signer's
and the notifier's use cases, all on the fakes."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from cairn.credentials.verification import Report
from cairn.domain.criteria import awards_for_history
from cairn.ports import Clock, Store
from cairn.usecases.issuer_documents import own_then
from cairn.usecases.verifying import FetchError, verify
from schemas.activity import ActivityIn, OrgActivity
from schemas.awards import AwardGranted
from tests.service.fakes import FakePublisher

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # four weeks before the fake clock's now
PUBLIC_URL = "https://cairn.example"
_event = TypeAdapter(ActivityIn)


def shift(event_id: str, email: str, day: int, hours: float, name: str | None = "Sam") -> ActivityIn:
    """A volunteer shift as the API receives it."""
    body = {
        "id": event_id,
        "type": "volunteer_shift",
        "volunteer": {"email": email, "name": name},
        "started_at": (T0 + timedelta(days=day)).isoformat(),
        "hours": hours,
    }
    return _event.validate_python(body)


def void(event_id: str, voids: str, email: str, reason: str = "logged twice") -> ActivityIn:
    """Takes an activity back out, as the API receives it."""
    body = {
        "id": event_id,
        "type": "activity_voided",
        "volunteer": {"email": email},
        "voids": voids,
        "reason": reason,
    }
    return _event.validate_python(body)


def activity(publisher: FakePublisher) -> list[OrgActivity]:
    return publisher.of(OrgActivity)


async def awards_from(publisher: FakePublisher, store: Store, org_id: str) -> list[AwardGranted]:
    """What the aggregator grants for the activity published so far: the criteria engine over
    each recipient's whole history (redelivered or repeated event ids count once)."""
    histories: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for record in activity(publisher):
        histories[record.activity.root.recipient_key].append((record.event_id, record.activity.root))
    classes = await store.badge_classes(org_id)
    return [award for key, events in histories.items() for award in awards_for_history(events, classes, key)]


async def _nowhere(url: str, max_bytes: int) -> dict[str, Any]:
    raise FetchError(f"{url}: only Cairn's own documents in this tier")


async def verified(store: Store, document: dict[str, Any], clock: Clock) -> Report:
    """Verifies as POST /v1/verify does: DID document and status lists answered from the store."""
    fetch_json = own_then(store, PUBLIC_URL, _nowhere, clock)
    return await verify(document, fetch_json, now=clock.now(), require_status=True)
