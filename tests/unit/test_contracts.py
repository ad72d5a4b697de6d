"""Validation rules of the API bodies: bad input is refused with the field and the reason."""

import copy
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.activity import (
    ACTIVITY_WINDOW,
    ActivityIn,
    ActivityVoidedIn,
    ActivityWindow,
    EventBatchIn,
    VolunteerShiftIn,
    WorkshopAttendanceIn,
    activity_from_api,
)
from schemas.admin import ApiKeyCreateIn, OrgCreateIn, OrgProfileUpdate, StatusChangeIn, slug_from_name
from schemas.badge_class import PANTRY_EXAMPLE, BadgeClassIn
from schemas.text import PARAGRAPH_PATTERN, PLAIN_PATTERN, refuse_controls

GOOD = {
    "id": "s1",
    "type": "volunteer_shift",
    "volunteer": {"email": "sam@example.org"},
    "started_at": "2026-11-01T09:00:00Z",
    "ended_at": "2026-11-01T12:30:00Z",
}

WORKSHOP = {
    "id": "w1",
    "type": "workshop_attendance",
    "attendee": {"email": "sam@example.org"},
    "series": "bike-repair",
    "session": "1",
    "attended_at": "2026-11-01T18:00:00Z",
}
VOID = {
    "id": "v1",
    "type": "activity_voided",
    "voids": "s1",
    "reason": "twice",
    "volunteer": {"email": "s@x.org"},
}
BADGE = {
    **PANTRY_EXAMPLE,
    "tags": ["pantry"],
    "criteria": {"kind": "total_hours", "at_least": 10, "filter": {}},
}


def errors_of(body: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as caught:
        VolunteerShiftIn.model_validate(body)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_hours_come_from_start_and_end():
    assert VolunteerShiftIn.model_validate(GOOD).duration_hours == 3.5


def test_kafka_record_has_no_personal_data():
    record = activity_from_api(VolunteerShiftIn.model_validate(GOOD), "c" * 64)
    dumped = record.model_dump_json()
    assert "sam@example.org" not in dumped and '"volunteer"' not in dumped


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"volunteer": {"email": "not-an-email"}}, ("volunteer", "email"), "valid email"),
        ({"ended_at": "2026-11-01T08:00:00Z"}, (), "ended_at must be after started_at"),
        ({"ended_at": None}, (), "give ended_at or hours"),
        ({"started_at": "2026-11-01T09:00:00"}, ("started_at",), "timezone"),
        ({"ended_at": "2026-11-03T09:00:00Z"}, (), "at most 24 hours"),
        ({"colour": "red"}, ("colour",), "Extra inputs"),
    ],
)
def test_bad_shift_names_field_and_reason(change, field, reason):
    found = errors_of({**GOOD, **change})
    assert any(loc == field and reason in msg for loc, msg in found), found


def test_batch_is_bounded():
    with pytest.raises(ValidationError, match="at most 1000"):
        EventBatchIn.model_validate({"events": [GOOD] * 1001})


HOSTILE = [
    "Sam\r\nBcc: evil@example.org",
    "Sam\nBcc: evil@example.org",
    "Sam\x00",
    "Sam\x1b[31m",
    "Sam\x85",  # NEL, a C1 control
    "Sam\x7f",
    "\u202eevil",
    "\u2066Sam\u2069",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize(
    ("model", "body", "path"),
    [
        (VolunteerShiftIn, GOOD, ("volunteer", "name")),
        (VolunteerShiftIn, GOOD, ("volunteer", "external_id")),
        (VolunteerShiftIn, GOOD, ("program",)),
        (VolunteerShiftIn, GOOD, ("role",)),
        (VolunteerShiftIn, GOOD, ("site",)),
        (VolunteerShiftIn, GOOD, ("id",)),
        (WorkshopAttendanceIn, WORKSHOP, ("series",)),
        (WorkshopAttendanceIn, WORKSHOP, ("session",)),
        (WorkshopAttendanceIn, WORKSHOP, ("attendee", "name")),
        (ActivityVoidedIn, VOID, ("reason",)),
        (ActivityVoidedIn, VOID, ("voids",)),
        (BadgeClassIn, BADGE, ("name",)),
        (BadgeClassIn, BADGE, ("tags", 0)),
        (BadgeClassIn, BADGE, ("criteria", "filter", "program")),
        (OrgCreateIn, {"name": "Riverside"}, ("name",)),
        (OrgProfileUpdate, {}, ("name",)),
        (ApiKeyCreateIn, {"name": "k", "scopes": ["read"]}, ("name",)),
        (StatusChangeIn, {}, ("reason",)),
    ],
)
def test_control_characters_are_refused_in_every_text_field(model, body, path, text):
    hostile = copy.deepcopy(body)
    place = hostile
    for part in path[:-1]:
        place = place[part]
    place[path[-1]] = text
    with pytest.raises(ValidationError) as caught:
        model.model_validate(hostile)
    [error] = caught.value.errors()
    assert "must not contain" in error["msg"] and "U+" in error["msg"]
    assert tuple(p for p in error["loc"] if p != "total_hours") == path


@pytest.mark.parametrize("field", ["description", "criteria_narrative"])
def test_narratives_may_have_line_breaks_but_no_other_controls(field):
    assert BadgeClassIn.model_validate({**BADGE, field: "First line.\nSecond line."})
    for text in ("a\r\nb", "a\x00", "\u202eevil"):
        with pytest.raises(ValidationError, match="must not contain"):
            BadgeClassIn.model_validate({**BADGE, field: text})


def test_published_patterns_refuse_what_the_validators_refuse():
    """The JSON Schemas carry the same rule as a pattern, for clients and fuzzers."""
    for code in [*range(0x00, 0xA0), *range(0x2000, 0x2070), 0xE9, 0x1F600]:
        char = chr(code)
        try:
            refuse_controls(f"a{char}b")
            plain_ok = True
        except ValueError:
            plain_ok = False
        assert bool(re.fullmatch(PLAIN_PATTERN, f"a{char}b")) == plain_ok, hex(code)
        try:
            refuse_controls(f"a{char}b", allow_newline=True)
            paragraph_ok = True
        except ValueError:
            paragraph_ok = False
        assert bool(re.fullmatch(PARAGRAPH_PATTERN, f"a{char}b")) == paragraph_ok, hex(code)


WINDOW = ActivityWindow.around(
    datetime(2026, 11, 30, 12, 0, tzinfo=UTC), timedelta(minutes=10), date(2000, 1, 1)
)


def at_intake(body: dict) -> object:
    return TypeAdapter(ActivityIn).validate_python(body, context={ACTIVITY_WINDOW: WINDOW})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"started_at": "2030-01-01T09:00:00Z", "ended_at": "2030-01-01T12:00:00Z"}, "in the future"),
        ({"started_at": "2026-11-30T11:00:00Z", "ended_at": "2026-11-30T12:11:00Z"}, "in the future"),
        ({"started_at": "2026-11-30T11:00:00Z", "ended_at": None, "hours": 1.5}, "in the future"),
        ({"started_at": "1999-12-31T22:00:00Z", "ended_at": "2000-01-01T01:00:00Z"}, "before 2000-01-01"),
    ],
)
def test_shifts_in_the_future_or_implausible_past_are_refused_at_intake(change, reason):
    body = {**GOOD, **change}
    with pytest.raises(ValidationError, match=reason):
        at_intake(body)
    assert VolunteerShiftIn.model_validate(body), "without a window (criteria check, Kafka) the model is pure"


def test_shifts_within_the_clock_skew_are_accepted():
    at_intake({**GOOD, "started_at": "2026-11-30T11:00:00Z", "ended_at": "2026-11-30T12:09:00Z"})
    at_intake({**GOOD, "started_at": "2000-01-01T00:00:00Z", "ended_at": "2000-01-01T01:00:00Z"})


def test_workshops_in_the_future_are_refused_at_intake():
    with pytest.raises(ValidationError, match=r"attended_at .* is in the future"):
        at_intake({**WORKSHOP, "attended_at": "2030-01-01T09:00:00Z"})
    with pytest.raises(ValidationError, match=r"attended_at \+ minutes"):
        at_intake({**WORKSHOP, "attended_at": "2026-11-30T11:45:00Z", "minutes": 60})


def test_batch_refuses_one_id_with_two_contents_naming_both_positions():
    other = {**GOOD, "id": "s2"}
    changed = {**GOOD, "ended_at": "2026-11-01T13:00:00Z"}
    with pytest.raises(ValidationError, match="events 0 and 2 have the same id 's1' but different contents"):
        EventBatchIn.model_validate({"events": [GOOD, other, changed]})


def test_batch_folds_identical_duplicates():
    batch = EventBatchIn.model_validate({"events": [GOOD, {**GOOD, "id": "s2"}, GOOD]})
    assert [e.id for e in batch.events] == ["s1", "s2"]


def test_a_void_cannot_take_back_itself():
    with pytest.raises(ValidationError, match="cannot take back itself"):
        ActivityVoidedIn.model_validate({**VOID, "voids": VOID["id"]})
    assert ActivityVoidedIn.model_validate({**VOID, "voids": "never-posted"}), "unknown ids stay pending"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Riverside Food Bank", "riverside-food-bank"),
        ("café-&-co-/-soup-kitchen", "cafe-co-soup-kitchen"),
        ("  Ünïcode —  Ñame!! ", "unicode-name"),
        ("x" * 100, "x" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_slugs_are_derived_from_names_by_one_rule(name, slug):
    assert slug_from_name(name) == slug
    assert OrgCreateIn.model_validate({"name": name}).slug == slug


@pytest.mark.parametrize("slug", ["café-&-co-/-soup-kitchen", "Riverside", "a-", "-a", "a_b", "x" * 65, ""])
def test_given_slugs_are_validated_not_rewritten(slug):
    with pytest.raises(ValidationError, match="is not a slug") as caught:
        OrgCreateIn.model_validate({"name": "Riverside", "slug": slug})
    assert caught.value.errors()[0]["loc"] == ("slug",)


def test_a_name_with_nothing_to_make_a_slug_of_needs_one():
    with pytest.raises(ValidationError, match="give one"):
        OrgCreateIn.model_validate({"name": "東京"})
    assert OrgCreateIn.model_validate({"name": "東京", "slug": "tokyo"}).slug == "tokyo"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        'https://example.org/logo.png" onerror="x',
        "https://example.org/a b.png",
        "https://example.org/\u202epng",
        "https://example.org/\r\nx",
        "ftp://example.org/logo.png",
    ],
)
@pytest.mark.parametrize(
    ("model", "field"),
    [
        (OrgCreateIn, "url"),
        (OrgCreateIn, "image_url"),
        (OrgProfileUpdate, "url"),
        (OrgProfileUpdate, "image_url"),
        (BadgeClassIn, "image"),
    ],
)
def test_urls_must_be_plain_http(model, field, url):
    body = BADGE if model is BadgeClassIn else {"name": "Riverside"}
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**body, field: url})
    assert caught.value.errors()[0]["loc"] == (field,)
    assert model.model_validate({**body, field: "https://example.org/logo.png"})


def test_org_time_zone_is_an_iana_name():
    assert OrgProfileUpdate.model_validate({"timezone": "America/Chicago"}).timezone == "America/Chicago"
    for bad in ("Mars/Olympus", "-05:00", "EST5EDT/../../etc", 5):
        with pytest.raises(ValidationError) as caught:
            OrgProfileUpdate.model_validate({"timezone": bad})
        assert caught.value.errors()[0]["loc"] == ("timezone",)
