"""SMTP adapters: the Mailer (aiosmtplib) that sends with retries, and the development sink
(aiosmtpd) that keeps every message it receives as an .eml file, so tests and the demo can
read mail back."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from aiosmtplib import SMTPDataError, SMTPResponse, SMTPServerDisconnected, SMTPStatus, SMTPTimeoutError
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from aiosmtplib.smtp import Default

from cairn.domain.failures import backoff
from cairn.ports import HandOver, HandOverFailed, MailNotSent, MailRefused
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


# A relay answers the end of DATA within moments (RFC 1047 asks it to); one silent for longer is in
# trouble and is taken not to have the message. A sender killed in the first moments leaves the
# email "handed over" (not sent again); one killed later in a long silence, "sending" (sent again).
ANSWER_EXPECTED_SECONDS = 1.0


class _HandingClient(aiosmtplib.SMTP):
    """aiosmtplib's client, with DATA done here so that the hand-over is recorded at the last
    moment the server cannot yet have the message: after the content, before its final ".".
    A sender killed earlier is followed by a resend (the server dropped the half message); one
    killed later, by an email recorded sent, unconfirmed. aiosmtplib's send_message still does
    the envelope (SMTPUTF8, 8BITMIME, SIZE); DATA follows its execute_data_command (5.1)."""

    hand_over: HandOver | None = None
    answer_expected: float = ANSWER_EXPECTED_SECONDS

    async def data(self, message: str | bytes, /, *, timeout: Any = Default.token) -> SMTPResponse:
        hand_over = self.hand_over
        if hand_over is None:
            return await super().data(message, timeout=timeout)
        protocol = self.protocol
        if protocol is None or protocol._command_lock is None:
            raise SMTPServerDisconnected("Connection lost")
        await self._ehlo_or_helo_if_needed()
        timeout = self.timeout if timeout is Default.token else timeout
        content = message.encode("ascii") if isinstance(message, str) else message
        content = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(content))
        try:
            async with protocol._command_lock:
                protocol._response_pending = True
                protocol.write(b"DATA\r\n")
                start = await protocol.read_response(timeout=timeout)
                if start.code != SMTPStatus.start_input:
                    raise SMTPDataError(start.code, start.message)
                protocol.write(content)  # all but the end: the server cannot take it yet
                await _handing(hand_over)
                protocol._response_pending = True
                protocol.write(b".\r\n")
                response = await self._answer(protocol.read_response(timeout=timeout), hand_over)
        except (SMTPServerDisconnected, SMTPTimeoutError):
            self.close()
            raise
        if response.code != SMTPStatus.completed:
            raise SMTPDataError(response.code, response.message)
        return response

    async def _answer(self, reading: Awaitable[SMTPResponse], hand_over: HandOver) -> SMTPResponse:
        """The server's answer to the end of DATA. The hand-over is taken back if the answer is
        not a 250, and if the server stays silent past answer_expected (it may still come)."""
        answer = asyncio.ensure_future(reading)
        taken_back = False
        try:
            done, _ = await asyncio.wait({answer}, timeout=self.answer_expected)
            if not done:
                log.warning("no answer to DATA in %.1fs: taken not to have the message", self.answer_expected)
                taken_back = True
                await hand_over.not_taken()
            response = await answer
        except BaseException:
            answer.cancel()
            if not taken_back:
                await hand_over.not_taken()
            raise
        if response.code != SMTPStatus.completed and not taken_back:
            await hand_over.not_taken()
        return response


async def _handing(hand_over: HandOver) -> None:
    try:
        await hand_over.handing()
    except HandOverFailed:
        raise
    except Exception as e:  # the store's own errors: the message's end was never sent
        raise HandOverFailed(f"recording the hand-over failed: {type(e).__name__}: {e}") from e


class Mailer:
    """Sends over up to `smtp_connections` reused connections, one message at a time on each
    (STARTTLS and AUTH if configured), retrying temporary failures `smtp_max_attempts` times;
    raises PermanentFailure or TemporaryFailure, `unreachable` when the relay, not the address,
    is in trouble: no server, a dropped or silent connection, a 421, a 4xx to MAIL FROM or DATA.
    Never logs the password.

    More than one connection, because each message's hand-over is a database write made just
    before the end of its DATA: on one connection those writes and the relay's round trips
    queue, one message after another."""

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
        self._idle: list[_HandingClient] = []  # connected, no message on them
        self._free = asyncio.Semaphore(settings.smtp_connections)
        self.connections_opened = 0

    async def _connection(self) -> _HandingClient:
        """An idle connection, or a new one."""
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        s = self._settings
        client = _HandingClient(
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=self._settings.smtp_timeout_seconds,
        )
        try:
            await client.connect()
        except BaseException:
            client.close()
            raise
        self.connections_opened += 1
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            if client.is_connected:
                try:
                    await client.quit()
                except aiosmtplib.SMTPException:
                    client.close()

    async def send(
        self,
        message: EmailMessage,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
        hand_over: HandOver | None = None,
    ) -> str:
        """Returns the server's answer (e.g. "250 OK queued as ..."). `still_wanted`, asked
        before each retry, stops the retries when it says False. `hand_over` is told just before
        the end of each DATA, and when that DATA fails; its HandOverFailed ends the send (the
        server never had the whole message)."""
        last_error, unreachable = "", False
        for attempt in range(1, self._settings.smtp_max_attempts + 1):
            if attempt > 1 and still_wanted is not None and not await still_wanted():
                raise TemporaryFailure(f"no longer wanted after: {last_error}", unreachable)
            async with self._free:
                outcome = await self._attempt(message, hand_over)
            if isinstance(outcome, str):
                return outcome
            last_error, unreachable = outcome
            if attempt < self._settings.smtp_max_attempts:
                delay = backoff(attempt, self._base_delay, self._max_delay)
                log.warning("SMTP attempt %d failed (%s); retrying in %.1fs", attempt, last_error, delay)
                await self._sleep(delay)
        raise TemporaryFailure(last_error, unreachable)

    async def _attempt(self, message: EmailMessage, hand_over: HandOver | None) -> str | tuple[str, bool]:
        """One try: the server's answer, or (the failure, whether it is the relay's trouble).
        The connection goes back to the idle ones unless the failure may have left it unusable."""
        try:
            client = await self._connection()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            # no server, TLS or login trouble: the relay's problem (or ours), never the address's
            return f"{type(e).__name__}: {e}", True
        client.hand_over, reusable = hand_over, False
        try:
            _, answer = await client.send_message(message)
            reusable = True
            return answer
        except aiosmtplib.SMTPRecipientsRefused as e:
            reusable = True  # aiosmtplib reset the transaction
            refusal = "; ".join(f"{r.code} {r.message}" for r in e.recipients)
            if all(500 <= r.code < 600 for r in e.recipients):
                raise PermanentFailure(refusal) from e
            return refusal, any(relay_trouble(r.code, r.message) for r in e.recipients)
        except aiosmtplib.SMTPResponseException as e:
            # a 4xx to MAIL FROM or DATA is about the relay, never the recipient
            if 500 <= e.code < 600:
                reusable = True
                raise PermanentFailure(f"{e.code} {e.message}") from e
            return f"{e.code} {e.message}", True
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            return f"{type(e).__name__}: {e}", True  # a dropped or silent connection
        finally:
            # anything else (HandOverFailed, cancelled) stopped mid-transaction: not reusable
            client.hand_over = None
            if reusable:
                self._idle.append(client)
            else:
                client.close()
