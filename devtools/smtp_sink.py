"""The development SMTP server: accepts every message and stores it as an .eml file that tests
and the demo read back (python -m devtools.smtp_sink; `cairn dev` runs it)."""

import asyncio
import logging
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings

log = logging.getLogger("cairn.smtp_sink")


BOUNCES = "bounce"  # a recipient whose local part starts with this is refused (550), for tests and demos


class _MaildirHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Refuses bounce*@ addresses the way a real server refuses an unknown mailbox."""
        if address.lower().startswith(BOUNCES):
            return "550 5.1.1 mailbox unavailable (the dev sink bounces bounce*@ addresses)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}.eml"
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        (self.directory / f".{name}.tmp").write_bytes(data)
        (self.directory / f".{name}.tmp").rename(self.directory / name)  # readers never see half a file
        log.info("sink stored %s for %s", name, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted"


def start_sink(directory: Path, host: str, port: int) -> Controller:
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(_MaildirHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


def read_mailbox(directory: Path) -> list[EmailMessage]:
    """Every message the sink has stored, oldest first."""
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(directory.glob("*.eml"))
    ]


def main() -> None:
    settings = get_settings()

    async def serve(stopping: asyncio.Event) -> None:
        controller = start_sink(settings.resolved_mail_dir, settings.smtp_host, settings.smtp_port)
        print(
            f"SMTP sink on {settings.smtp_host}:{settings.smtp_port} -> {settings.resolved_mail_dir}",
            flush=True,
        )
        await stopping.wait()
        controller.stop()

    run_until_stopped(serve, "smtp-sink", log_format="text")


if __name__ == "__main__":
    main()
