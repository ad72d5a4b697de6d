"""The development SMTP server: accepts every message and stores it as an .eml file that tests
and the demo read back (python -m devtools.smtp_sink; `cairn dev` runs it). On request it
refuses, drops or stalls some transactions, like a relay in trouble (devtools/smtp_faults.py)."""

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
from devtools.smtp_faults import FaultInjector

log = logging.getLogger("cairn.smtp_sink")


BOUNCES = "bounce"  # a recipient whose local part starts with this is refused (550), for tests and demos


class _MaildirHandler:
    def __init__(self, directory: Path, faults: FaultInjector | None) -> None:
        self.directory = directory
        self.faults = faults

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """A transaction starts: draws its fault, if faults are switched on."""
        if self.faults is not None:
            self.faults.begin(envelope)
            if fault := await self.faults.spring(server, envelope, "MAIL"):
                return fault
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Refuses bounce*@ addresses the way a real server refuses an unknown mailbox."""
        if self.faults is not None and (fault := await self.faults.spring(server, envelope, "RCPT")):
            return fault
        if address.lower().startswith(BOUNCES):
            return "550 5.1.1 mailbox unavailable (the dev sink bounces bounce*@ addresses)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.faults is not None and (fault := await self.faults.spring(server, envelope, "DATA")):
            return fault  # before anything is stored: a faulted transaction keeps nothing
        name = f"{time.time_ns()}.eml"
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        (self.directory / f".{name}.tmp").write_bytes(data)
        (self.directory / f".{name}.tmp").rename(self.directory / name)  # readers never see half a file
        log.info("sink stored %s for %s", name, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted"


def start_sink(directory: Path, host: str, port: int, run_dir: Path | None = None) -> Controller:
    """`run_dir`: where the fault switch and counts live (<var>/run); None: never any faults."""
    directory.mkdir(parents=True, exist_ok=True)
    faults = FaultInjector(run_dir) if run_dir is not None else None
    controller = Controller(_MaildirHandler(directory, faults), hostname=host, port=port)
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
        controller = start_sink(
            settings.resolved_mail_dir, settings.smtp_host, settings.smtp_port, settings.var_dir / "run"
        )
        print(
            f"SMTP sink on {settings.smtp_host}:{settings.smtp_port} -> {settings.resolved_mail_dir}",
            flush=True,
        )
        await stopping.wait()
        controller.stop()

    run_until_stopped(serve, "smtp-sink", log_format="text")


if __name__ == "__main__":
    main()
