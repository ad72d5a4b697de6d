"""SMTP adapters: the Mailer (aiosmtplib) that sends with retries, and the development sink
(aiosmtpd) that keeps every message it receives as an .eml file, so tests and the demo can
read mail back."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib

from cairn.domain.failures import backoff
from cairn.ports import MailNotSent, MailRefused
from cairn.settings import Settings

log = logging.getLogger(__name__)


# the Mailer port's failures (cairn.ports), under the names this adapter always gave them
PermanentFailure = MailRefused
TemporaryFailure = MailNotSent


def relay_trouble(code: int, message: str) -> bool:
    """Whether a 4xx to RCPT is the relay's trouble (421 closing, or RFC 3463's 4.3.x mail
    system and 4.4.x network status) rather than this recipient's (4.2.2 mailbox full, 4.7.1
    greylisted, ...)."""
    return code == 421 or message.lstrip().startswith(("4.3.", "4.4."))


class Mailer:
    """Sends over one reused connection (STARTTLS and AUTH if configured), retrying temporary
    failures `smtp_max_attempts` times; raises PermanentFailure or TemporaryFailure, `unreachable`
    when the relay, not the address, is in trouble: no server, a dropped or silent connection, a
    421, a 4xx to MAIL FROM or DATA. Never logs the password."""

    def __init__(
        self,
        settings: Settings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._base_delay, self._max_delay = base_delay, max_delay
        self._client: aiosmtplib.SMTP | None = None
        self.connections_opened = 0

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=self._settings.smtp_timeout_seconds,
        )
        await client.connect()
        self.connections_opened += 1
        self._client = client
        return client

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except aiosmtplib.SMTPException:
                self._client.close()
        self._client = None

    async def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def send(
        self, message: EmailMessage, still_wanted: Callable[[], Awaitable[bool]] | None = None
    ) -> str:
        """Returns the server's answer (e.g. "250 OK queued as ..."). `still_wanted`, asked
        before each retry, stops the retries when it says False."""
        last_error, unreachable = "", False
        for attempt in range(1, self._settings.smtp_max_attempts + 1):
            if attempt > 1 and still_wanted is not None and not await still_wanted():
                raise TemporaryFailure(f"no longer wanted after: {last_error}", unreachable)
            try:
                client = await self._connected()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
                # no server, TLS or login trouble: the relay's problem (or ours), never the address's
                last_error, unreachable = f"{type(e).__name__}: {e}", True
                await self._drop()
            else:
                try:
                    _, answer = await client.send_message(message)
                    return answer
                except aiosmtplib.SMTPRecipientsRefused as e:
                    last_error = "; ".join(f"{r.code} {r.message}" for r in e.recipients)
                    if all(500 <= r.code < 600 for r in e.recipients):
                        raise PermanentFailure(last_error) from e
                    unreachable = any(relay_trouble(r.code, r.message) for r in e.recipients)
                except aiosmtplib.SMTPResponseException as e:
                    # a 4xx to MAIL FROM or DATA is about the relay, never the recipient
                    last_error, unreachable = f"{e.code} {e.message}", True
                    if 500 <= e.code < 600:
                        raise PermanentFailure(last_error) from e
                    await self._drop()
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
                    last_error, unreachable = f"{type(e).__name__}: {e}", True
                    await self._drop()
            if attempt < self._settings.smtp_max_attempts:
                delay = backoff(attempt, self._base_delay, self._max_delay)
                log.warning("SMTP attempt %d failed (%s); retrying in %.1fs", attempt, last_error, delay)
                await self._sleep(delay)
        raise TemporaryFailure(last_error, unreachable)
