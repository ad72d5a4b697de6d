"""What an award says, in the credential and the claim email: figures as people write them,
the badges a pathway needs by name, which occurrence of a repeating badge, dates in the
organisation's time zone."""

from datetime import UTC, datetime, timedelta

from cairn.credentials.builder import IssuerProfile, build_credential, evidence_entries, hours_text
from cairn.domain.criteria import Progress, record_activity, settle
from cairn.usecases.email_message import Branding, ClaimEmail, render_claim_email
from schemas.activity import VolunteerShiftLogged, WorkshopAttendanceRecorded
from schemas.awards import AwardGranted
from schemas.badge_class import BadgeClass

KEY = "c" * 64
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday


def badge(badge_id: str, name: str, criteria: dict, **fields) -> BadgeClass:
    return BadgeClass(
        id=badge_id,
        org_id="org",
        version=1,
        name=name,
        description="d",
        criteria_narrative="n",
        criteria=criteria,
        **fields,
    )


def shift(start: datetime, minutes: int, **fields) -> VolunteerShiftLogged:
    return VolunteerShiftLogged(
        recipient_key=KEY, started_at=start, ended_at=start + timedelta(minutes=minutes), **fields
    )


def awards(events: list, classes: list[BadgeClass]) -> dict[tuple[str, int], AwardGranted]:
    progress = Progress()
    for n, data in enumerate(events):
        progress = record_activity(progress, f"e{n}", data) or progress
    return {(a.badge_class_id, a.occurrence): a for a in settle(progress, classes, KEY).awards}


def descriptions(award: AwardGranted, classes: list[BadgeClass]) -> list[str]:
    [awarded] = [b for b in classes if b.id == award.badge_class_id]
    return [entry["description"] for entry in evidence_entries(award, awarded)]


def credential(award: AwardGranted, awarded: BadgeClass) -> dict:
    return build_credential(
        credential_id="urn:uuid:1",
        award=award,
        badge=awarded,
        issuer=IssuerProfile(id="did:web:example.org", name="Riverside Food Bank"),
        org_slug="riverside",
        recipient_email="sam@example.org",
        recipient_salt="salt",
        public_url="https://cairn.example",
        issued_at=T0 + timedelta(days=30),
    )


def test_hours_read_as_people_write_them():
    assert [hours_text(s) for s in (36000, 3600, 5400, 24000, 1200, 60, 3660)] == [
        "10 hours",
        "1 hour",
        "1.5 hours",
        "6 hours 40 minutes",
        "20 minutes",
        "1 minute",
        "1 hour 1 minute",
    ]


def test_three_shifts_of_3h20_read_as_ten_hours():
    ten = badge("ten", "Pantry: 10 hours", {"kind": "total_hours", "at_least": 10})
    found = awards([shift(T0 + timedelta(days=d), 200) for d in range(3)], [ten])
    assert descriptions(found[("ten", 1)], [ten]) == ["10 hours (10 needed), earned on 4 November 2026."]


def test_a_pathway_names_the_badges_it_holds():
    pantry = badge(
        "pantry", "Pantry volunteer", {"kind": "count", "at_least": 1, "filter": {"kind": "volunteer_shift"}}
    )
    safety = badge(
        "safety", "Food safety", {"kind": "count", "at_least": 1, "filter": {"kind": "workshop_attendance"}}
    )
    lead = badge(
        "lead",
        "Shift lead",
        {
            "kind": "all",
            "of": [
                {"kind": "holds_badge", "badge": "pantry"},
                {"kind": "holds_badge", "badge": "safety"},
                {"kind": "total_hours", "at_least": 2},
            ],
        },
    )
    classes = [pantry, safety, lead]
    events = [
        shift(T0, 150),
        WorkshopAttendanceRecorded(
            recipient_key=KEY, series="food", session="1", attended_at=T0 + timedelta(days=1)
        ),
    ]
    found = awards(events, classes)
    lines = descriptions(found[("lead", 1)], classes)
    assert lines == [
        "Holds: Pantry volunteer, Food safety.",
        "2.5 hours (2 needed), earned on 3 November 2026.",
    ]
    assert descriptions(found[("pantry", 1)], classes) == [
        "1 activity (1 needed), earned on 2 November 2026."
    ]
    for line in lines:
        assert "criteria version" not in line and "requirement" not in line and "badge " not in line


def test_repeat_badges_say_which_occurrence():
    yearly = badge(
        "yearly", "Volunteer of the year", {"kind": "count", "at_least": 1}, repeat="calendar_year"
    )
    tens = badge("tens", "Every 10 hours", {"kind": "total_hours", "at_least": 10}, repeat="each_multiple")
    events = [shift(T0 + timedelta(days=d), 8 * 60) for d in range(4)]  # 32 hours in 2026
    events.append(shift(datetime(2027, 1, 4, 9, tzinfo=UTC), 60))
    found = awards(events, [yearly, tens])
    assert descriptions(found[("yearly", 2027)], [yearly]) == [
        "For 2027: 1 activity (1 needed), earned on 4 January 2027."
    ]
    assert credential(found[("yearly", 2026)], yearly)["name"] == "Volunteer of the year (2026)"
    assert descriptions(found[("tens", 3)], [tens]) == [
        "On reaching 30 hours: 33 hours (30 needed), earned on 5 November 2026."
    ]
    assert credential(found[("tens", 3)], tens)["name"] == "Every 10 hours (30 hours)"
    plain = badge("plain", "Pantry: 10 hours", {"kind": "total_hours", "at_least": 10})
    assert credential(awards(events, [plain])[("plain", 1)], plain)["name"] == "Pantry: 10 hours"


def test_the_date_earned_is_the_organisations_day():
    chicago = badge("ten", "Ten", {"kind": "total_hours", "at_least": 10}, timezone="America/Chicago")
    late = shift(datetime(2027, 1, 1, 0, tzinfo=UTC) - timedelta(hours=7), 10 * 60)  # ends 03:00 UTC
    assert descriptions(awards([late], [chicago])[("ten", 1)], [chicago]) == [
        "10 hours (10 needed), earned on 31 December 2026."
    ]


def test_the_claim_email_lists_what_the_volunteer_did():
    pantry = badge("pantry", "Pantry volunteer", {"kind": "total_hours", "at_least": 10})
    award = awards([shift(T0 + timedelta(days=d), 200) for d in range(3)], [pantry])[("pantry", 1)]
    mail = ClaimEmail(
        recipient_email="sam@example.org",
        recipient_name="Sam",
        branding=Branding("Riverside Food Bank", "#2e6b4f"),
        badge_name="Pantry volunteer",
        badge_description="Ten hours at the pantry.",
        evidence=descriptions(award, [pantry]),
        claim_url="https://cairn.example/claim/t",
        unsubscribe_url="https://cairn.example/unsubscribe/x",
        message_id="<m@claim.cairn>",
    )
    message = render_claim_email(mail, "badges@cairn.example")
    text = message.get_body(("plain",)).get_content()
    assert "What you did:\n- 10 hours (10 needed), earned on 4 November 2026.\n" in text
    assert (
        "<li>10 hours (10 needed), earned on 4 November 2026.</li>"
        in message.get_body(("html",)).get_content()
    )
