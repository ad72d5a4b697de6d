"""Validation rules of the API bodies: bad input is refused with the field and the reason."""

import pytest
from pydantic import ValidationError

from schemas.activity import EventBatchIn, VolunteerShiftIn, activity_from_api
from schemas.admin import OrgProfileUpdate

GOOD = {
    "id": "s1",
    "type": "volunteer_shift",
    "volunteer": {"email": "sam@example.org"},
    "started_at": "2026-11-01T09:00:00Z",
    "ended_at": "2026-11-01T12:30:00Z",
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


def test_org_time_zone_is_an_iana_name():
    assert OrgProfileUpdate.model_validate({"timezone": "America/Chicago"}).timezone == "America/Chicago"
    for bad in ("Mars/Olympus", "-05:00", "EST5EDT/../../etc", 5):
        with pytest.raises(ValidationError) as caught:
            OrgProfileUpdate.model_validate({"timezone": bad})
        assert caught.value.errors()[0]["loc"] == ("timezone",)
