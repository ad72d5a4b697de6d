"""Workshop check-in: the host opens a session; attendees check in through its signed link while
it is open; each check-in becomes a workshop_attendance event through intake (the API's contract
and use case), at once or when the host confirms it; removing one posted voids it."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter

from cairn.domain.identity import recipient_key
from cairn.domain.records import CheckInRecord, CheckInSessionRecord, Org
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from cairn.settings import Settings
from cairn.usecases.intake import accept_events, intake_context
from schemas.activity import ActivityIn
from schemas.check_in import CheckInIn, CheckInSessionIn

_event = TypeAdapter(ActivityIn)


class CheckInRefused(Exception):
    """The link is not one the host was shown (`unknown`), or the session is not open for
    check-in now (`not_yet`, `closed`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Window:
    opens: datetime
    closes: datetime


def window(session: CheckInSessionRecord, settings: Settings) -> Window:
    """When the link works: CAIRN_CHECK_IN_OPENS_MINUTES before the start to
    CAIRN_CHECK_IN_CLOSES_MINUTES after the end."""
    return Window(
        session.starts_at - timedelta(minutes=settings.check_in_opens_minutes),
        session.ends_at + timedelta(minutes=settings.check_in_closes_minutes),
    )


def event_id(check_in: CheckInRecord) -> str:
    """One attendance per person and session, however often they check in."""
    return f"check-in-{check_in.session_id}-{check_in.recipient_key[:16]}"


async def open_session(
    store: Store, org: Org, body: CheckInSessionIn, clock: Clock = SYSTEM_CLOCK
) -> CheckInSessionRecord:
    session = CheckInSessionRecord(
        id=str(uuid.uuid4()),
        org_id=org.id,
        series=body.series,
        session=body.session,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        host_confirms=body.host_confirms,
        created_at=clock.now(),
    )
    await store.create_check_in_session(session)
    return session


async def open_session_for_link(
    store: Store, session_id: str, code: str, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> CheckInSessionRecord:
    """The session the link names, if its signature holds and it is open now."""
    session = await store.check_in_session(session_id)
    if session is None or not store.check_in_code_matches(session_id, code):
        raise CheckInRefused("unknown")
    now, open_ = clock.now(), window(session, settings)
    if now < open_.opens:
        raise CheckInRefused("not_yet")
    if now > open_.closes:
        raise CheckInRefused("closed")
    return session


async def check_in(
    store: Store,
    publisher: Publisher,
    session_id: str,
    code: str,
    person: CheckInIn,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> CheckInRecord:
    """Records the check-in (once per person) and, unless the host confirms each, posts it."""
    session = await open_session_for_link(store, session_id, code, settings, clock)
    org = await store.org(session.org_id)
    if org is None:
        raise CheckInRefused("unknown")
    key = recipient_key(await store.org_secret(org.id), person.email)
    await store.upsert_recipients(org.id, {key: (person.email, person.name)})
    stored, _ = await store.add_check_in(
        CheckInRecord(
            id=str(uuid.uuid4()),
            session_id=session.id,
            org_id=org.id,
            recipient_key=key,
            status="pending" if session.host_confirms else "posted",
            checked_in_at=clock.now().replace(microsecond=0),
        )
    )
    if stored.status == "posted":  # again on a repeat: the event id makes it count once
        await _post(store, publisher, org, session, stored, settings, clock)
    return stored


async def _post(
    store: Store,
    publisher: Publisher,
    org: Org,
    session: CheckInSessionRecord,
    check_in: CheckInRecord,
    settings: Settings,
    clock: Clock,
) -> None:
    contact = await store.recipient(org.id, check_in.recipient_key)
    if contact is None:  # erased since
        return
    body = {
        "id": event_id(check_in),
        "type": "workshop_attendance",
        "attendee": {"email": contact.email, "name": contact.name},
        "series": session.series,
        "session": session.session,
        "attended_at": check_in.checked_in_at.isoformat(),
    }
    event = _event.validate_python(body, context=intake_context(settings, clock))
    await accept_events(store, publisher, org, [event])


async def _own(
    store: Store, org: Org, session_id: str, check_in_id: str
) -> tuple[CheckInSessionRecord, CheckInRecord]:
    """The session and the check-in, if both are the organisation's; else LookupError."""
    session = await store.check_in_session(session_id)
    if session is None or session.org_id != org.id:
        raise LookupError(session_id)
    for held in await store.check_ins(session_id):
        if held.id == check_in_id:
            return session, held
    raise LookupError(check_in_id)


async def confirm(
    store: Store,
    publisher: Publisher,
    org: Org,
    session_id: str,
    check_in_id: str,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> bool:
    """The host's one click in "host confirms" mode: posts a pending check-in (once)."""
    session, _ = await _own(store, org, session_id, check_in_id)
    posted = await store.set_check_in_status(check_in_id, "pending", "posted")
    if posted is not None:
        await _post(store, publisher, org, session, posted, settings, clock)
    return posted is not None


async def remove(
    store: Store,
    publisher: Publisher,
    org: Org,
    session_id: str,
    check_in_id: str,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> bool:
    """Takes a mistaken check-in back: a pending one is dropped; a posted one is voided."""
    _, held = await _own(store, org, session_id, check_in_id)
    if await store.set_check_in_status(check_in_id, "pending", "removed") is not None:
        return True
    if await store.set_check_in_status(check_in_id, "posted", "removed") is None:
        return False
    contact = await store.recipient(org.id, held.recipient_key)
    if contact is not None:
        body = {
            "id": f"{event_id(held)}-void",
            "type": "activity_voided",
            "voids": event_id(held),
            "reason": "check-in removed by the host",
            "volunteer": {"email": contact.email},
        }
        event = _event.validate_python(body, context=intake_context(settings, clock))
        await accept_events(store, publisher, org, [event])
    return True
