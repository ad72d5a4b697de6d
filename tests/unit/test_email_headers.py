"""Email headers are built from the email package's address objects: a name is quoted and
encoded, never header syntax, and a CR or LF is refused instead of becoming a header line."""

from email import message_from_bytes, policy

import pytest

from cairn.domain.failures import Failure, classify
from cairn.usecases.email_message import (
    Branding,
    ClaimEmail,
    SignInEmail,
    UnsafeHeader,
    render_claim_email,
    render_sign_in_email,
)

SENDER = "Cairn <badges@cairn.invalid>"


def _claim(name: str | None, email: str = "sam@example.org", badge: str = "Pantry: 10 hours") -> ClaimEmail:
    return ClaimEmail(
        recipient_email=email,
        recipient_name=name,
        branding=Branding("Riverside", "#336699"),
        badge_name=badge,
        badge_description="Ten hours.",
        evidence=[],
        claim_url="http://127.0.0.1/claim/t",
        unsubscribe_url="http://127.0.0.1/unsubscribe/o/r/c",
        message_id="<c1@claim.cairn>",
    )


def _reparsed(name: str) -> object:
    raw = render_claim_email(_claim(name), SENDER).as_bytes()
    return message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize(
    "name",
    ["Sam\r\nBcc: evil@example.org", "Sam\nBcc: evil@example.org", "Sam\rBcc: evil@example.org"],
)
def test_a_line_break_in_the_recipient_name_is_refused_not_sent(name):
    with pytest.raises(UnsafeHeader, match="To:") as refused:
        render_claim_email(_claim(name), SENDER)
    assert classify(refused.value) is Failure.PERMANENT


def test_a_line_break_in_the_address_or_subject_is_refused():
    with pytest.raises(UnsafeHeader, match="To:"):
        render_claim_email(_claim("Sam", email="sam@example.org\r\nBcc: evil@example.org"), SENDER)
    with pytest.raises(UnsafeHeader, match="Subject:"):
        render_claim_email(_claim("Sam", badge="Pantry\r\nBcc: evil@example.org"), SENDER)
    with pytest.raises(UnsafeHeader, match="To:"):
        render_sign_in_email(SignInEmail("sam@example.org\nBcc: evil@example.org", "http://x", 15), SENDER)


@pytest.mark.parametrize(
    "name",
    ['Okafor, Sam "Q" <boss@example.org>', "Bcc: evil@example.org", "Zoë \u202eevil"],
)
def test_a_name_that_looks_like_header_syntax_stays_a_name(name):
    mail = _reparsed(name)
    assert mail["Bcc"] is None and mail["Cc"] is None
    (address,) = mail["To"].addresses
    assert address.addr_spec == "sam@example.org"
    assert address.display_name == name


def test_the_sender_is_parsed_into_an_address():
    mail = render_sign_in_email(SignInEmail("sam@example.org", "http://x", 15), SENDER)
    assert mail["From"].addresses[0].display_name == "Cairn"
    assert mail["From"].addresses[0].addr_spec == "badges@cairn.invalid"
