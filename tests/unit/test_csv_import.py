"""CSV exports of rotas and sign-in sheets to events, with row-numbered errors."""

from pathlib import Path

import pytest

from cairn.csv_import import parse_csv

DATA = Path(__file__).parent.parent / "data" / "csv"


def test_rota_export_headers_are_recognised():
    parsed = parse_csv((DATA / "rota_export.csv").read_text(), timezone="Europe/London")
    assert parsed.errors == [] and parsed.kind == "volunteer_shift"
    assert parsed.columns["email"] == "E-mail" and parsed.columns["start"] == "Time In"
    (row, first), (_, second), (_, night) = parsed.events
    assert row == 2 and first.id == "R-1001" and first.volunteer.name == "Sam Okafor"
    assert first.started_at.isoformat() == "2026-11-02T09:00:00+00:00" and first.duration_hours == 4
    assert second.duration_hours == 2.5 and second.program == "Pantry" and second.site == "Riverside"
    assert night.duration_hours == 4, "a shift past midnight ends the next day"


def test_sign_in_sheet_is_workshop_attendance_with_derived_stable_ids():
    text = (DATA / "signin_sheet.csv").read_text()
    parsed = parse_csv(text)
    assert parsed.kind == "workshop_attendance" and parsed.errors == []
    [(_, first), (_, second)] = parsed.events
    assert first.attendee.name == "Ben Adeyemi" and first.session == "1" and first.minutes == 90
    assert first.id.startswith("csv-workshop_attendance-") and first.id != second.id
    assert [e.id for _, e in parse_csv(text).events] == [first.id, second.id], "same file, same ids"


def test_errors_name_the_row_and_column_and_keep_the_good_rows_apart():
    text = (
        "Email,Date,Start,End\n"
        "ok@example.org,2026-11-02,09:00,10:00\n"
        "not-an-email,2026-11-02,09:00,10:00\n"
        "x@example.org,31/02/2026,09:00,10:00\n"
        "y@example.org,2026-11-02,9 o'clock,10:00\n"
        "\n"
        "z@example.org,2026-11-02,09:00,09:00\n"
    )
    parsed = parse_csv(text)
    assert [row for row, _ in parsed.events] == [2]
    found = {(e.row, e.column) for e in parsed.errors}
    assert found == {(3, "Email"), (4, "Date"), (5, "Start"), (7, None)} or found == {
        (3, "Email"),
        (4, "Date"),
        (5, "Start"),
        (7, "End"),
    }
    messages = {e.row: e.message for e in parsed.errors}
    assert "not a date" in messages[4] and "not a time of day" in messages[5]


def test_mapping_names_columns_the_synonyms_miss():
    text = "Contact,When,Length\nsam@example.org,2026-11-02,3\n"
    assert parse_csv(text).errors[0].message.startswith("no email column")
    parsed = parse_csv(text, mapping={"email": "Contact", "date": "When", "hours": "Length"})
    [(_, event)] = parsed.events
    assert event.hours == 3
    with pytest.raises(ValueError, match="does not have"):
        parse_csv(text, mapping={"email": "Mail"})


def test_us_date_order_and_unknown_zone():
    parsed = parse_csv("Email,Date,Hours\nsam@example.org,11/28/2026,2\n", date_order="mdy")
    assert parsed.events[0][1].started_at.date().isoformat() == "2026-11-28"
    with pytest.raises(ValueError, match="time zone"):
        parse_csv("Email,Date,Hours\n", timezone="Mars/Olympus")
