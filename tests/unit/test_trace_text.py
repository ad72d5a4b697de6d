"""`cairn trace`'s text: each part of a person's trail in reading order, the SMTP answer and the
dead letter's cause spelled out."""

from cairn.cli.trace import render

TRAIL = {
    "organisation": "pantry",
    "org_id": "o1",
    "email": "lee@example.org",
    "recipient_key": "ab" * 32,
    "known": True,
    "unsubscribed": False,
    "events": [
        {
            "id": "lee-1",
            "type": "t",
            "accepted_at": "2026-11-30T10:00:00Z",
            "kind": "volunteer_shift",
            "at": "2026-11-01T09:00:00Z",
            "voids": None,
            "hours": 10.0,
        },
        {
            "id": "lee-2",
            "type": "t",
            "accepted_at": "2026-11-30T10:05:00Z",
            "kind": "activity_voided",
            "at": None,
            "voids": "lee-0",
            "hours": None,
        },
    ],
    "progress": [
        {
            "badge_class_id": "ten-hours",
            "awarded": True,
            "questioned": False,
            "figures": [{"measure": "hours", "achieved": 10.0, "required": 10.0}],
        }
    ],
    "progress_as_of": "2026-11-30T10:00:01Z",
    "awards": [
        {
            "award_id": "a1",
            "badge_class_id": "ten-hours",
            "occurrence": 1,
            "earned_at": "2026-11-01T19:00:00Z",
            "granted_at": "2026-11-30T10:00:01Z",
        }
    ],
    "credentials": [
        {
            "id": "urn:uuid:c1",
            "award_id": "a1",
            "badge_class_id": "ten-hours",
            "status": "active",
            "issued_at": "2026-11-30T10:00:02Z",
            "email": {
                "message_id": "<c1@claim.cairn>",
                "status": "bounced",
                "smtp_answer": "550 5.1.1 mailbox unavailable",
                "attempts": 2,
                "generation": 0,
                "sent_at": None,
            },
        }
    ],
    "dead_letters": [
        {
            "topic": "cairn.activity.v1.dlq",
            "from": "cairn.activity.v1/2@7",
            "error": "ValidationError: invalid JSON",
            "attempts": 1,
        }
    ],
}


def test_the_trail_reads_from_event_to_email_and_dead_letter():
    lines = render(TRAIL).splitlines()
    assert lines[0].startswith("lee@example.org at pantry (recipient key abababababab…)")
    text = "\n".join(lines)
    order = [
        "events (2):",
        "lee-1",
        "progress",
        "ten-hours: awarded (hours 10/10)",
        "awards (1):",
        "credentials (1):",
        "email <c1@claim.cairn> bounced: 550 5.1.1 mailbox unavailable",
        "dead letters (1):",
        "cairn.activity.v1.dlq from cairn.activity.v1/2@7 after 1 attempt(s): ValidationError",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert "lee-2  activity_voided voids lee-0" in text


def test_a_stranger_is_said_to_be_unknown():
    text = render(
        {**TRAIL, "known": False, "events": [], "awards": [], "credentials": [], "dead_letters": []}
    )
    assert "not in the store" in text and "events (0):" in text
