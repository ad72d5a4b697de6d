"""The emails Cairn sends, rendered from jinja2 templates (pure: no sending here)."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from jinja2 import Environment, PackageLoader, select_autoescape

_env = Environment(
    loader=PackageLoader("cairn", "templates/email"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Branding:
    org_name: str
    colour: str
    logo_url: str | None = None

    @property
    def text_on_colour(self) -> str:
        """Black or white, whichever reads better on the brand colour (WCAG relative luminance)."""
        channels = [int(self.colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


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


@dataclass(frozen=True)
class SignInEmail:
    recipient_email: str
    link: str
    minutes_valid: int


def message_id_for(credential_id: str, generation: int = 0) -> str:
    """One Message-ID per credential and resend, so a re-send after a crash is recognisably
    the same email."""
    suffix = f".{generation}" if generation else ""
    return f"<{credential_id.removeprefix('urn:uuid:')}{suffix}@claim.cairn>"


def _greeting(name: str | None) -> str:
    return f"Hello {name}" if name else "Hello"


def render_claim_email(mail: ClaimEmail, sender: str) -> EmailMessage:
    context = {"m": mail, "b": mail.branding, "greeting": _greeting(mail.recipient_name)}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((mail.recipient_name or "", mail.recipient_email))
    prefix = "Your new link: " if mail.resent else "You earned a badge: "
    message["Subject"] = prefix + mail.badge_name
    message["Message-ID"] = mail.message_id
    message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_env.get_template("claim.txt").render(context))
    message.add_alternative(_env.get_template("claim.html").render(context), subtype="html")
    return message


def render_sign_in_email(mail: SignInEmail, sender: str) -> EmailMessage:
    context = {"m": mail}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient_email
    message["Subject"] = "Your link to see your badges"
    message.set_content(_env.get_template("my_badges.txt").render(context))
    message.add_alternative(_env.get_template("my_badges.html").render(context), subtype="html")
    return message
