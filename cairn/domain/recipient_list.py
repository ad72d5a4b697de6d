"""A pasted or uploaded list of people for a direct award (pure: text in, recipients and row
errors out). Each line is a name and an email in either order ("Sam Okafor, sam@example.org"),
or an email alone; a first line naming the columns (Name, E-mail...) is read as a header. Commas,
semicolons or tabs separate (each line may use its own); rows are numbered as the lines of the
text (a header is row 1)."""

import csv
from dataclasses import dataclass

from pydantic import ValidationError

from cairn.domain.csv_import import RowError, sniff_delimiter
from schemas.direct_awards import MAX_RECIPIENTS, DirectRecipient

EMAIL_HEADERS = {"email", "e-mail", "mail", "email address", "e-mail address", "volunteer email"}
NAME_HEADERS = {"name", "full name", "volunteer name", "volunteer", "attendee", "person"}


@dataclass(frozen=True)
class RecipientList:
    recipients: list[DirectRecipient]
    errors: list[RowError]


def _header(cells: list[str]) -> tuple[int, int | None] | None:
    """(email column, name column) if the row names its columns."""
    names = [c.strip().lower() for c in cells]
    email = next((i for i, c in enumerate(names) if c in EMAIL_HEADERS), None)
    if email is None or any("@" in c for c in names):
        return None
    return email, next((i for i, c in enumerate(names) if c in NAME_HEADERS), None)


def _person(cells: list[str], columns: tuple[int, int | None] | None) -> dict[str, str | None]:
    if columns is not None:
        email, name = columns
        return {
            "email": cells[email].strip() if email < len(cells) else "",
            "name": cells[name].strip() if name is not None and name < len(cells) else None,
        }
    at = [i for i, c in enumerate(cells) if "@" in c]
    where = at[0] if at else len(cells) - 1
    rest = " ".join(c.strip() for i, c in enumerate(cells) if i != where and c.strip())
    return {"email": cells[where].strip(), "name": rest or None}


def _message(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "row"
    return f"{field}: {first['msg']}"


def parse_recipients(text: str) -> RecipientList:
    """Every row read as a recipient, or an error naming the row; blank lines are skipped."""
    # each line on its own: a pasted list may mix "Name, email" and "email;Name"
    rows = [next(csv.reader([line], delimiter=sniff_delimiter(line)), []) for line in text.splitlines()]
    recipients: list[DirectRecipient] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    columns = _header(rows[0]) if rows else None
    for number, cells in enumerate(rows, start=1):
        if (number == 1 and columns is not None) or not any(c.strip() for c in cells):
            continue
        try:
            person = DirectRecipient.model_validate(_person(cells, columns))
        except ValidationError as e:
            errors.append(RowError(number, None, _message(e)))
            continue
        address = person.email.lower()
        if address in seen:
            errors.append(RowError(number, "email", f"{person.email} is already on row {seen[address]}"))
            continue
        seen[address] = number
        recipients.append(person)
    if len(recipients) > MAX_RECIPIENTS:
        errors.append(RowError(len(rows), None, f"at most {MAX_RECIPIENTS} people per award"))
    return RecipientList(recipients, errors)
