"""`cairn trace --email ADDRESS --org SLUG`: everything about one person's way from activity to
email, in one place — the answer to "why didn't Sam get her badge?".

Their events and awards are read from Kafka (cairn.activity.v1 and cairn.awards.v1, by their
recipient key), progress, credentials and the claim emails with the SMTP server's answers from the
store, and any dead-lettered record of theirs from every .dlq topic."""

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from cairn.settings import Settings, get_settings


async def trace(settings: Settings, slug: str, email: str) -> dict[str, Any]:
    """The person's trail as plain data (what --json prints)."""
    from cairn import bootstrap
    from cairn.adapters.kafka import topics
    from cairn.adapters.kafka.history import Held, read_topics

    parts = bootstrap.cli(settings)
    try:
        store = parts.store
        org = await store.org_by_slug(slug)
        if org is None:
            raise LookupError(f"no organisation {slug!r}")
        key = await store.recipient_key_of(org.id, email)
        contact = await store.recipient(org.id, key)
        progress = await store.progress(org.id, key)
        credentials = await store.credentials(org.id, recipient_key=key)
        notifications = {c.id: await store.notification(c.id) for c in credentials}
    finally:
        await parts.close()

    person_key = f"{org.id}:{key}"

    def theirs(held: Held) -> bool:
        value = held.value if isinstance(held.value, dict) else {}
        return held.key == person_key or value.get("subject") == key

    records = await read_topics(settings, [topics.ACTIVITY, topics.AWARDS], theirs)
    award_ids = {r.value["data"]["award_id"] for r in records if r.topic == topics.AWARDS}
    award_ids |= {c.award_id for c in credentials}
    ids = award_ids | {c.id for c in credentials} | {person_key}

    def dead_letter_of_theirs(held: Held) -> bool:
        text = held.value.get("value", "") if isinstance(held.value, dict) else held.value
        return held.key in ids or key in text

    letters = await read_topics(settings, [topics.dlq(t) for t in topics.CONSUMED], dead_letter_of_theirs)
    return {
        "organisation": slug,
        "org_id": org.id,
        "email": email,
        "recipient_key": key,
        "known": contact is not None,
        "unsubscribed": bool(contact and contact.unsubscribed),
        "events": [_event(r) for r in records if r.topic == topics.ACTIVITY],
        "progress": [b.model_dump(mode="json") for b in progress.badges] if progress else [],
        "progress_as_of": progress.as_of.isoformat() if progress else None,
        "awards": [_award(r) for r in records if r.topic == topics.AWARDS],
        "credentials": [
            {
                "id": c.id,
                "award_id": c.award_id,
                "badge_class_id": c.badge_class_id,
                "status": c.status,
                "issued_at": c.issued_at.isoformat(),
                "email": _email(notifications[c.id]),
            }
            for c in credentials
        ],
        "dead_letters": [
            {
                "topic": r.topic,
                "from": f"{r.value.get('topic')}/{r.value.get('partition')}@{r.value.get('offset')}",
                "error": r.value.get("error"),
                "attempts": r.value.get("attempts"),
            }
            if isinstance(r.value, dict)
            else {"topic": r.topic, "from": None, "error": r.value, "attempts": None}
            for r in letters
        ],
    }


def _event(held: Any) -> dict[str, Any]:
    value = held.value if isinstance(held.value, dict) else {}
    data = value.get("data") or {}
    return {
        "id": value.get("id"),
        "type": value.get("type"),
        "accepted_at": value.get("time"),
        "kind": data.get("kind"),
        "at": data.get("started_at") or data.get("attended_at"),
        "voids": data.get("voids"),
        "hours": data.get("hours"),
    }


def _award(held: Any) -> dict[str, Any]:
    data = held.value["data"]
    return {
        "award_id": data["award_id"],
        "badge_class_id": data["badge_class_id"],
        "occurrence": data.get("occurrence"),
        "earned_at": data.get("earned_at"),
        "granted_at": datetime.fromtimestamp(held.timestamp_ms / 1000, UTC).isoformat(),
    }


def _email(notification: Any) -> dict[str, Any] | None:
    if notification is None:
        return None
    return {
        "message_id": notification.message_id,
        "status": notification.status,
        "smtp_answer": notification.last_error,
        "attempts": notification.attempts,
        "generation": notification.generation,
        "sent_at": notification.sent_at.isoformat() if notification.sent_at else None,
    }


def render(trail: dict[str, Any]) -> str:
    """The trail as text a person reads top to bottom."""
    out = [f"{trail['email']} at {trail['organisation']} (recipient key {trail['recipient_key'][:12]}…)"]
    if not trail["known"]:
        out.append("  not in the store: no event for this address was accepted (or it was erased)")
    if trail["unsubscribed"]:
        out.append("  unsubscribed: claim emails are not sent")
    out.append(f"events ({len(trail['events'])}):")
    for e in trail["events"]:
        hours = f", {e['hours']} h" if e["hours"] is not None else ""
        what = f"voids {e['voids']}" if e["voids"] else f"at {e['at']}{hours}"
        out.append(f"  {e['id']}  {e['kind']} {what}; accepted {e['accepted_at']}")
    out.append(f"progress (as of {trail['progress_as_of']}):")
    for b in trail["progress"]:
        figures = ", ".join(f"{f['measure']} {f['achieved']:g}/{f['required']:g}" for f in b["figures"])
        state = "awarded" if b["awarded"] else "questioned" if b["questioned"] else "not yet"
        out.append(f"  {b['badge_class_id']}: {state} ({figures})")
    out.append(f"awards ({len(trail['awards'])}):")
    for a in trail["awards"]:
        out.append(
            f"  {a['award_id']}  {a['badge_class_id']} #{a['occurrence']}"
            f" earned {a['earned_at']}, granted {a['granted_at']}"
        )
    out.append(f"credentials ({len(trail['credentials'])}):")
    for c in trail["credentials"]:
        out.append(
            f"  {c['id']}  {c['badge_class_id']} {c['status']}, issued {c['issued_at']}"
            f" (award {c['award_id']})"
        )
        mail = c["email"]
        if mail is None:
            out.append("    email: none yet")
        else:
            answer = f": {mail['smtp_answer']}" if mail["smtp_answer"] else ""
            out.append(f"    email {mail['message_id']} {mail['status']}{answer}")
    out.append(f"dead letters ({len(trail['dead_letters'])}):")
    for d in trail["dead_letters"]:
        out.append(f"  {d['topic']} from {d['from']} after {d['attempts']} attempt(s): {d['error']}")
    return "\n".join(out)


def _cmd_trace(args: argparse.Namespace) -> int:
    trail = asyncio.run(trace(get_settings(), args.org, args.email))
    sys.stdout.write((json.dumps(trail, indent=2) if args.json else render(trail)) + "\n")
    return 0


def add_trace_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn trace."""
    command = sub.add_parser("trace", help="one person's events, progress, awards, emails and dead letters")
    command.add_argument("--email", required=True, help="the volunteer's address")
    command.add_argument("--org", required=True, metavar="SLUG", help="the organisation")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")
    command.set_defaults(func=_cmd_trace)
