"""CSV exports of rotas and sign-in sheets to events, with row-numbered errors."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cairn.domain.csv_import import decode_csv, parse_csv, sniff_delimiter
from schemas.activity import ActivityWindow

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


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("Email,Date,Hours\nsam@example.org,28/11/2026,2\n", ","),
        ("Email;Date;Hours\nsam@example.org;28/11/2026;2,5\n", ";"),
        ("Email\tDate\tHours\nsam@example.org\t28/11/2026\t2\n", "\t"),
        ('"Email","Note; free text",Hours\nsam@example.org,"a; b",2\n', ","),
        ('\n\nEmail;"Name, full";Hours\n', ";"),
        ("Email\n", ","),
    ],
)
def test_delimiter_is_sniffed_from_the_header_row(text, delimiter):
    assert sniff_delimiter(text) == delimiter


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_exports_are_read(delimiter):
    text = delimiter.join(["E-mail", "Volunteer Name", "Shift Date", "Hours"]) + "\n"
    text += delimiter.join(["sam@example.org", "Sam Okafor", "28/11/2026", "2,5"]) + "\n"
    parsed = parse_csv(text)
    assert parsed.errors == [] and parsed.columns["email"] == "E-mail"
    [(row, event)] = parsed.events
    assert row == 2 and event.volunteer.name == "Sam Okafor" and event.duration_hours == 2.5


def test_a_windows_1252_file_gets_the_export_advice():
    data = "Email,Name,Date,Hours\nzoe@example.org,Zoë Müller,28/11/2026,2\n".encode("cp1252")
    with pytest.raises(ValueError, match=r'not UTF-8 text \(it looks like Windows-1252.*"CSV UTF-8"'):
        decode_csv(data)
    assert decode_csv(b"\xef\xbb\xbfEmail\n") == "Email\n", "a byte-order mark is dropped"


def test_control_characters_in_a_row_are_refused_with_its_row_and_column():
    text = "Email,Name,Date,Hours\nsam@example.org,Sam,28/11/2026,2\n"
    text += 'ana@example.org,"Ana\r\nBcc: evil@example.org",28/11/2026,2\n'
    text += "bo@example.org,\u202eevil,28/11/2026,2\n"
    parsed = parse_csv(text)
    assert [(e.row, e.column) for e in parsed.errors] == [(4, "Name"), (5, "Name")]
    assert all("must not contain" in e.message for e in parsed.errors)


def test_one_id_with_two_contents_is_refused_and_the_same_row_twice_is_folded():
    text = "Id,Email,Date,Hours\nr1,sam@example.org,28/11/2026,2\nr1,sam@example.org,28/11/2026,2\n"
    parsed = parse_csv(text)
    assert parsed.errors == [] and [row for row, _ in parsed.events] == [2]
    parsed = parse_csv(text + "r1,sam@example.org,28/11/2026,3\n")
    assert [(e.row, e.column) for e in parsed.errors] == [(4, "Id")]
    assert "the id 'r1' of row 2 but other contents" in parsed.errors[0].message


def test_rows_outside_the_activity_window_are_refused_with_the_reason():
    window = ActivityWindow.around(
        datetime(2026, 11, 30, tzinfo=UTC), timedelta(minutes=10), date(2000, 1, 1)
    )
    text = "Email,Date,Hours\nsam@example.org,28/11/2026,2\nsam@example.org,01/01/2030,2\n"
    text += "sam@example.org,31/12/1999,2\n"
    parsed = parse_csv(text, window=window)
    assert [e.row for e in parsed.errors] == [3, 4]
    assert "in the future" in parsed.errors[0].message and "before 2000-01-01" in parsed.errors[1].message
    assert len(parse_csv(text).events) == 3, "without a window (an offline check) nothing is refused"


def test_windows_line_endings_are_not_control_characters_in_cells():
    parsed = parse_csv("Email;Name;Date;Hours\r\nsam@example.org;Sam;28/11/2026;2\r\n")
    assert parsed.errors == [] and [(row, e.volunteer.name) for row, e in parsed.events] == [(2, "Sam")]
