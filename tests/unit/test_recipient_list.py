"""Pasted or uploaded lists of people for a direct award: either order, a header or none, any
delimiter, and errors that name the row."""

from cairn.domain.recipient_list import parse_recipients


def test_name_and_email_in_either_order_or_an_email_alone():
    parsed = parse_recipients("Sam Okafor, sam@example.org\nana@example.org;Ana Lima\n\nben@example.org\n")
    assert [(p.name, p.email) for p in parsed.recipients] == [
        ("Sam Okafor", "sam@example.org"),
        ("Ana Lima", "ana@example.org"),
        (None, "ben@example.org"),
    ]
    assert parsed.errors == []


def test_a_header_row_picks_the_columns():
    parsed = parse_recipients("Role\tE-mail\tVolunteer Name\nlead\tsam@example.org\tSam\n")
    assert [(p.name, p.email) for p in parsed.recipients] == [("Sam", "sam@example.org")]


def test_errors_name_the_row_and_nothing_else_is_lost():
    parsed = parse_recipients(
        "name,email\nSam,sam@example.org\nAna,not-an-email\nSam again,SAM@example.org\nBen,ben@example.org\n"
    )
    assert [p.email for p in parsed.recipients] == ["sam@example.org", "ben@example.org"]
    assert [(e.row, e.column) for e in parsed.errors] == [(3, None), (4, "email")]
    assert "email" in parsed.errors[0].message and "row 2" in parsed.errors[1].message


def test_a_name_with_a_line_break_or_control_is_refused():
    parsed = parse_recipients('"Sam\x1b[2J",sam@example.org\n')
    assert [e.row for e in parsed.errors] == [1] and parsed.recipients == []
