"""Rota and sign-in-sheet CSV files to activity events (pure: text in, events and errors out).

Files are UTF-8 (with or without a byte-order mark) and comma-, semicolon- or tab-delimited
(spreadsheets in many locales export semicolons). Headers are matched by name, whatever the
export calls them ("E-mail", "Volunteer Email", "Time In"...); `mapping` overrides or adds
names. A file with series and session columns is workshop attendance, otherwise volunteer
shifts. Rows without an id column get an id derived from their content, so uploading the same
file twice changes nothing. Errors name the row (the file's line: the header is row 1) and the
column.
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from schemas.activity import ACTIVITY_WINDOW, ActivityIn, ActivityWindow, fold_same_ids

MAX_ROWS = 20_000
DELIMITERS = (",", ";", "\t")
NOT_UTF8 = (
    'the file is not UTF-8 text (it looks like {guess}); export it as "CSV UTF-8" '
    "(in Excel: Save As, CSV UTF-8; in LibreOffice: Save As, Text CSV, character set Unicode UTF-8)"
)
DateOrder = Literal["dmy", "mdy"]
_activity = TypeAdapter(ActivityIn)


def decode_csv(data: bytes) -> str:
    """The file's text, or a ValueError saying how to export it as UTF-8 (the API, the CLI and
    the dashboard give the same message)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        guess = "UTF-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "Windows-1252 or Latin-1"
        raise ValueError(NOT_UTF8.format(guess=guess)) from e


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header row into the most columns (comma on a tie)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    widths = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (widths[d], d == ","))


# canonical field -> header names seen in rota and sign-in exports (compared without case,
# spaces or punctuation)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "shiftid", "eventid", "recordid", "signinid", "entryid"),
    "email": ("email", "emailaddress", "volunteeremail", "attendeeemail", "mail"),
    "name": ("name", "volunteer", "volunteername", "fullname", "attendee", "attendeename", "participant"),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
    "date": ("date", "shiftdate", "day", "sessiondate", "attendeddate"),
    "start": ("start", "starttime", "timein", "checkin", "checkedin", "signin", "startedat", "from"),
    "end": ("end", "endtime", "timeout", "checkout", "checkedout", "signout", "endedat", "to"),
    "hours": ("hours", "duration", "hoursworked", "totalhours", "durationhours"),
    "minutes": ("minutes", "durationminutes", "mins"),
    "program": ("program", "programme", "activity", "department", "project"),
    "role": ("role", "position", "task", "job"),
    "site": ("site", "location", "venue", "branch"),
    "series": ("series", "workshop", "course", "workshopseries"),
    "session": ("session", "sessionnumber", "class", "sessionid"),
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class CsvImport:
    kind: Literal["volunteer_shift", "workshop_attendance"]
    columns: dict[str, str]  # canonical field -> the file's header
    headers: list[str] = field(default_factory=list)  # every column of the file, in order
    events: list[tuple[int, ActivityIn]] = field(default_factory=list)  # (row number, event)
    errors: list[RowError] = field(default_factory=list)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def match_columns(headers: list[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """canonical field -> header; `mapping` (field -> header) wins over the synonyms."""
    by_key = {_key(h): h for h in headers}
    columns = {}
    for canonical, names in SYNONYMS.items():
        for name in names:
            if name in by_key:
                columns[canonical] = by_key[name]
                break
    for canonical, header in (mapping or {}).items():
        if canonical not in SYNONYMS:
            raise ValueError(f"unknown field {canonical!r} in the mapping (known: {', '.join(SYNONYMS)})")
        if header not in headers:
            raise ValueError(f"the mapping names column {header!r}, which the file does not have")
        columns[canonical] = header
    return columns


def _parse_date(text: str, order: DateOrder) -> date:
    text = text.strip()
    for pattern in (
        "%Y-%m-%d",
        "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y",
        "%d.%m.%Y",
        "%d %b %Y",
        "%d %B %Y",
    ):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(
        f"{text!r} is not a date (use 2026-11-28 or {'28/11/2026' if order == 'dmy' else '11/28/2026'})"
    )


def _parse_time(text: str) -> time:
    cleaned = text.strip().upper().replace(".", ":")
    for pattern in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p", "%H%M"):
        try:
            return datetime.strptime(cleaned, pattern).time()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a time of day (use 09:00 or 9:00 AM)")


def _parse_moment(value: str, day: date | None, order: DateOrder, zone: ZoneInfo) -> datetime:
    """A full timestamp in the cell, or a time of day on the row's date."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    except ValueError:
        pass
    if day is None:
        raise ValueError(f"{value!r} is a time without a date (add a date column)")
    return datetime.combine(day, _parse_time(value), tzinfo=zone)


def _derived_id(kind: str, cells: dict[str, str]) -> str:
    identity = "|".join(f"{k}={cells.get(k, '').strip().lower()}" for k in sorted(SYNONYMS) if k != "id")
    return f"csv-{kind}-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


def parse_csv(
    text: str,
    mapping: dict[str, str] | None = None,
    timezone: str = "UTC",
    date_order: DateOrder = "dmy",
    window: ActivityWindow | None = None,
) -> CsvImport:
    """The file's events and row errors; raises ValueError for a file that is not CSV at all.
    `window`, when given, refuses rows dated in the future or before the floor (intake gives
    one; checking an old export offline need not)."""
    try:
        return _parse_csv(text, mapping, timezone, date_order, window)
    except csv.Error as e:  # e.g. a cell over the csv module's field size limit
        raise ValueError(f"the file cannot be read as CSV: {e}") from e


def _parse_csv(
    text: str,
    mapping: dict[str, str] | None,
    timezone: str,
    date_order: DateOrder,
    window: ActivityWindow | None,
) -> CsvImport:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:  # OSError: a name too long for a file
        raise ValueError(f"unknown time zone {timezone[:100]!r}") from e
    text = text.lstrip("\ufeff")
    # newline="": the csv module reads line breaks itself, CR-only files (old Mac exports) too
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    headers = [h for h in (reader.fieldnames or []) if h is not None]
    if not headers:
        raise ValueError("the file is empty or has no header row")
    columns = match_columns(headers, mapping)
    kind: Literal["volunteer_shift", "workshop_attendance"] = (
        "workshop_attendance" if {"series", "session"} <= columns.keys() else "volunteer_shift"
    )
    result = CsvImport(kind=kind, columns=columns, headers=headers)
    if "email" not in columns:
        result.errors.append(RowError(1, None, "no email column (name one with mapping, e.g. email=Contact)"))
        return result
    read: list[tuple[int, ActivityIn]] = []
    for count, row in enumerate(reader, start=1):
        number = reader.line_num  # the file's line, so blank lines do not shift the numbers
        if count > MAX_ROWS:
            result.errors.append(RowError(number, None, f"more than {MAX_ROWS} rows; split the file"))
            break
        cells = {c: (row.get(h) or "").strip() for c, h in columns.items()}
        if not any(cells.values()):
            continue  # blank line
        event, errors = _row_event(kind, cells, columns, number, date_order, zone, window)
        result.errors.extend(errors)
        if event is not None:
            read.append((number, event))
    # the same row twice is folded; two rows under one id are refused
    result.events, conflicts = fold_same_ids(read)
    for first, number, event_id in conflicts:
        message = f"has the id {event_id!r} of row {first} but other contents"
        result.errors.append(RowError(number, columns.get("id"), message))
    result.errors.sort(key=lambda error: error.row)  # stable: each row's errors as they were found
    return result


# fields of the event body that come from one column, to name that column in an error
_VALIDATED_FIELDS = (
    *("email", "name", "hours", "minutes", "started_at", "ended_at", "attended_at"),
    *("program", "role", "site", "series", "session", "id"),
)


def _row_event(
    kind: str,
    cells: dict[str, str],
    columns: dict[str, str],
    number: int,
    order: DateOrder,
    zone: ZoneInfo,
    window: ActivityWindow | None,
) -> tuple[ActivityIn | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(canonical: str | None, message: str) -> None:
        errors.append(RowError(number, columns.get(canonical) if canonical else None, message))

    day = None
    if cells.get("date"):
        try:
            day = _parse_date(cells["date"], order)
        except ValueError as e:
            fail("date", str(e))
            return None, errors  # the times would only repeat that the date is missing
    name = (
        cells.get("name")
        or " ".join(p for p in (cells.get("first_name"), cells.get("last_name")) if p)
        or None
    )
    person = {"email": cells["email"], "name": name}
    body: dict = {"id": cells.get("id") or _derived_id(kind, cells), "type": kind}
    start = None
    if cells.get("start"):
        try:
            start = _parse_moment(cells["start"], day, order, zone)
        except ValueError as e:
            fail("start", str(e))
    elif day is not None:
        start = datetime.combine(day, time(0), tzinfo=zone)
    else:
        fail("date", "no date or start time")
    if kind == "volunteer_shift":
        body |= {"volunteer": person}
        if start is not None:
            body["started_at"] = start.isoformat()
        if cells.get("end"):
            try:
                end = _parse_moment(cells["end"], day or (start.date() if start else None), order, zone)
                if start is not None and end < start:
                    end += timedelta(days=1)  # a night shift ends the next day
                body["ended_at"] = end.isoformat()
            except ValueError as e:
                fail("end", str(e))
        if cells.get("hours"):
            try:
                body["hours"] = float(cells["hours"].replace(",", "."))
            except ValueError:
                fail("hours", f"{cells['hours']!r} is not a number of hours")
        for optional in ("program", "role", "site"):
            if cells.get(optional):
                body[optional] = cells[optional]
    else:
        body |= {"attendee": person, "series": cells["series"], "session": cells["session"]}
        if start is not None:
            body["attended_at"] = start.isoformat()
        if cells.get("minutes"):
            try:
                body["minutes"] = int(float(cells["minutes"]))
            except ValueError:
                fail("minutes", f"{cells['minutes']!r} is not a number of minutes")
    if errors:
        return None, errors
    try:
        context = {ACTIVITY_WINDOW: window} if window else None
        return _activity.validate_python(body, context=context), []
    except ValidationError as e:
        for problem in e.errors(include_url=False):
            location = [str(part) for part in problem["loc"] if not isinstance(part, int)]
            field_name = next((f for f in _VALIDATED_FIELDS if f in location), None)
            canonical = {"started_at": "start", "ended_at": "end", "attended_at": "start"}.get(
                field_name or "", field_name
            )
            message = problem["msg"].removeprefix("Value error, ")
            fail(canonical, f"{'.'.join(location[1:]) or 'row'}: {message}")
        return None, errors
