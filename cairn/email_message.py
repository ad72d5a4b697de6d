"""The claim email, rendered from jinja2 templates (pure: no sending here)."""

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
class ClaimEmail:
    recipient_email: str
    recipient_name: str | None
    org_name: str
    badge_name: str
    badge_description: str
    claim_url: str
    message_id: str


def message_id_for(credential_id: str) -> str:
    """One Message-ID per credential, so a re-send after a crash is recognisably the same email."""
    return f"<{credential_id.removeprefix('urn:uuid:')}@claim.cairn>"


def render_claim_email(mail: ClaimEmail, sender: str) -> EmailMessage:
    context = {"m": mail, "greeting": f"Hello {mail.recipient_name}" if mail.recipient_name else "Hello"}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((mail.recipient_name or "", mail.recipient_email))
    message["Subject"] = f"You earned a badge: {mail.badge_name}"
    message["Message-ID"] = mail.message_id
    message.set_content(_env.get_template("claim.txt").render(context))
    message.add_alternative(_env.get_template("claim.html").render(context), subtype="html")
    return message
