"""SMTP adapters: sending with aiosmtplib, and the development sink (aiosmtpd) that keeps
every message it receives as an .eml file, so tests and the demo can read mail back."""

import asyncio
import logging
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)


async def send(message: EmailMessage, host: str, port: int) -> None:
    await aiosmtplib.send(message, hostname=host, port=port, timeout=30)


class _MaildirHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

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


async def serve_sink(directory: Path, host: str, port: int) -> None:
    controller = start_sink(directory, host, port)
    log.info("SMTP sink on %s:%s storing to %s", host, port, directory)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()
