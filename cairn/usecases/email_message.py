"""The emails Cairn sends, rendered from jinja2 templates (pure: no sending here)."""

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr

from jinja2 import Environment, PackageLoader, select_autoescape

from cairn.domain import languages
from cairn.domain.colour import text_on
from cairn.domain.failures import Permanent
from cairn.usecases.translated_templates import install_translations

_env = install_translations(
    Environment(
        loader=PackageLoader("cairn", "templates/email"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
    )
)


@dataclass(frozen=True)
class Branding:
    org_name: str
    colour: str
    logo_url: str | None = None

    @property
    def text_on_colour(self) -> str:
        """Black or white, whichever reads better on the brand colour (WCAG relative luminance)."""
        return text_on(self.colour)


@dataclass(frozen=True)
class ClaimEmail:
    recipient_email: str
    recipient_name: str | None
    branding: Branding
    badge_name: str
    badge_description: str
    evidence: list[str]
    claim_url: str
    unsubscribe_url: str
    message_id: str
    resent: bool = False
    image_png: bytes | None = None  # the badge, attached inline (cid:) so it shows without remote images

    @property
    def image_cid(self) -> str:
        """The inline image's Content-ID (without brackets), derived from the Message-ID so a
        re-sent email is the same."""
        return "badge." + self.message_id.strip("<>")

    language: str = languages.DEFAULT  # a shipped language (cairn.domain.languages.choose)
    occurrence: str | None = None  # which occurrence of a repeating badge: "9 activities", "2026"

    @property
    def title(self) -> str:
        """The badge's name, with the occurrence of a repeating badge: three emails for "Every
        three shifts" are not three identical subjects."""
        return f"{self.badge_name} — {self.occurrence}" if self.occurrence else self.badge_name


@dataclass(frozen=True)
class SignInEmail:
    recipient_email: str
    link: str
    minutes_valid: int
    language: str = languages.DEFAULT


class UnsafeHeader(Permanent, ValueError):
    """A header value that would break the message's structure (a CR or LF, say): the email is
    refused rather than sent with a header line nobody wrote."""


def _address(display_name: str | None, addr_spec: str, header: str) -> Address:
    """An email.headerregistry.Address: the email package quotes and encodes the name, so a
    name can never become header syntax. A CR or LF in either part is refused."""
    try:
        return Address(display_name=display_name or "", addr_spec=addr_spec)
    except (ValueError, IndexError) as error:
        raise UnsafeHeader(f"{header}: {error}") from None


def _set(message: EmailMessage, header: str, value: str | Address) -> None:
    """Sets one header; the email package refuses CR and LF in any value, named here."""
    try:
        message[header] = value
    except ValueError as error:
        raise UnsafeHeader(f"{header}: {error}") from None


def _sender(sender: str) -> Address:
    name, addr_spec = parseaddr(sender)
    return _address(name, addr_spec, "From")


def message_id_for(credential_id: str, generation: int = 0) -> str:
    """One Message-ID per credential and resend, so a re-send after a crash is recognisably
    the same email."""
    suffix = f".{generation}" if generation else ""
    return f"<{credential_id.removeprefix('urn:uuid:')}{suffix}@claim.cairn>"


def _subject(mail: ClaimEmail) -> str:
    if mail.resent:
        return languages.translate(mail.language, "Your new link: %(badge)s") % {"badge": mail.title}
    return languages.translate(mail.language, "You earned a badge: %(badge)s") % {"badge": mail.title}


def render_claim_email(mail: ClaimEmail, sender: str) -> EmailMessage:
    """The claim (or renewed-link) email in the recipient's language, which it declares in
    Content-Language and on the HTML."""
    context = {"m": mail, "b": mail.branding, "lang": mail.language}
    message = EmailMessage()
    _set(message, "From", _sender(sender))
    _set(message, "To", _address(mail.recipient_name, mail.recipient_email, "To"))
    _set(message, "Subject", _subject(mail))
    _set(message, "Message-ID", mail.message_id)
    _set(message, "List-Unsubscribe", f"<{mail.unsubscribe_url}>")
    _set(message, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    message.set_content(_env.get_template("claim.txt").render(context))
    message.add_alternative(_env.get_template("claim.html").render(context), subtype="html")
    if mail.image_png is not None:
        html = message.get_payload()[1]
        html.add_related(
            mail.image_png,
            "image",
            "png",
            cid=f"<{mail.image_cid}>",
            disposition="inline",
            filename="badge.png",
        )
    _set(message, "Content-Language", mail.language)  # after the body: set_content drops Content-*
    return message


def render_sign_in_email(mail: SignInEmail, sender: str) -> EmailMessage:
    context = {"m": mail, "lang": mail.language}
    message = EmailMessage()
    _set(message, "From", _sender(sender))
    _set(message, "To", _address(None, mail.recipient_email, "To"))
    _set(message, "Subject", languages.translate(mail.language, "Your link to see your badges"))
    message.set_content(_env.get_template("my_badges.txt").render(context))
    message.add_alternative(_env.get_template("my_badges.html").render(context), subtype="html")
    _set(message, "Content-Language", mail.language)  # after the body: set_content drops Content-*
    return message
