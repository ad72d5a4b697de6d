"""Faults the development SMTP sink injects on request, so a chaos run can show that no claim
email is lost or sent twice while the mail relay misbehaves (issue 15).

The switch is a JSON file, `<var>/run/smtp-faults.json`, read again whenever it changes:

    {"rate": 0.3, "until": <unix seconds>, "kinds": ["refuse", "drop", "timeout"], "timeout_seconds": 12}

While now < until, each mail transaction (MAIL FROM to the end of DATA) suffers, with
probability `rate`, one fault of a kind drawn from `kinds`, at a stage drawn from MAIL, RCPT
and DATA, always before the message is accepted (a faulted transaction never stores it):
refuse = a 451 4.3.0 reply; drop = the connection closed with no reply; timeout = no reply for
`timeout_seconds`, then the connection closed. Per transaction, not per connection: the Mailer
keeps one connection for many messages, so a fault drawn per connection would reach only the
first message on each, while a relay in trouble fails transactions on open connections too.

Each fault injected is counted in `<var>/run/smtp-faults-injected.json` ({"refuse": n, ...};
kept across sink restarts) and logged.
"""

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

log = logging.getLogger("cairn.smtp_sink")

KINDS = ("refuse", "drop", "timeout")
STAGES = ("MAIL", "RCPT", "DATA")
SWITCH_FILE = "smtp-faults.json"
COUNTS_FILE = "smtp-faults-injected.json"
REFUSAL = "451 4.3.0 Temporary local problem, try again later (dev sink fault)"


@dataclass(frozen=True)
class FaultPlan:
    """What the switch file asks for."""

    rate: float
    until: float
    kinds: tuple[str, ...] = KINDS
    timeout_seconds: float = 12.0

    @classmethod
    def parse(cls, text: str) -> "FaultPlan":
        """Raises ValueError for a file that is not a plan (unknown kinds included)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        kinds = tuple(data.get("kinds", KINDS))
        if unknown := set(kinds) - set(KINDS):
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        return cls(float(data["rate"]), float(data["until"]), kinds, float(data.get("timeout_seconds", 12.0)))


@dataclass(frozen=True)
class Fault:
    kind: str  # refuse | drop | timeout
    stage: str  # MAIL | RCPT | DATA: the command whose reply it replaces
    seconds: float  # how long a timeout keeps the client waiting


def pick(options: tuple[str, ...], draw: float) -> str:
    return options[min(int(draw * len(options)), len(options) - 1)]


def choose(plan: FaultPlan | None, now: float, draw: Callable[[], float]) -> Fault | None:
    """The fault for one transaction, or None: `draw` gives uniform numbers in [0, 1)."""
    if plan is None or now >= plan.until or not plan.kinds or draw() >= plan.rate:
        return None
    return Fault(pick(plan.kinds, draw()), pick(STAGES, draw()), plan.timeout_seconds)


class FaultSwitch:
    """The switch file's plan, read again only when the file changes (a stat per transaction),
    so toggling it takes effect at the next message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._plan: FaultPlan | None = None

    def plan(self) -> FaultPlan | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp = self._plan = None
            return None
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._plan = FaultPlan.parse(self.path.read_text())
                log.info("SMTP fault plan: %s", self._plan)
            except (OSError, ValueError, KeyError, TypeError) as e:
                log.warning("ignoring %s (%s): no faults", self.path, e)
                self._plan = None
        return self._plan


class FaultCounts:
    """Faults injected per kind, written (atomically) after each one for the chaos driver."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts = dict.fromkeys(KINDS, 0)
        try:
            self.counts.update(json.loads(path.read_text()))
        except (OSError, ValueError):
            pass

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(self.counts))
        partial.replace(self.path)


class FaultInjector:
    """Draws a transaction's fault at MAIL and springs it at its stage (the sink's handler asks)."""

    def __init__(
        self,
        run_dir: Path,
        draw: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.switch = FaultSwitch(run_dir / SWITCH_FILE)
        self.counts = FaultCounts(run_dir / COUNTS_FILE)
        self._draw, self._clock = draw, clock
        self._planned: WeakKeyDictionary[Any, Fault] = WeakKeyDictionary()  # by aiosmtpd Envelope

    def begin(self, envelope: Any) -> None:
        fault = choose(self.switch.plan(), self._clock(), self._draw)
        if fault is not None:
            self._planned[envelope] = fault

    async def spring(self, server: Any, envelope: Any, stage: str) -> str | None:
        """None: answer as normal. A refusal: the reply to send instead. A drop or timeout
        closes the connection and never returns (aiosmtpd cancels the session's handler)."""
        fault = self._planned.get(envelope)
        if fault is None or fault.stage != stage:
            return None
        del self._planned[envelope]
        self.counts.add(fault.kind)
        log.warning("SMTP fault injected: %s at %s", fault.kind, stage)
        if fault.kind == "refuse":
            return REFUSAL
        if fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)  # cancelled early if the client gives up first
        if server.transport is not None:
            server.transport.abort()  # no reply: the socket closes, and aiosmtpd cancels us
        await asyncio.sleep(5)
        return REFUSAL  # only if the cancellation never came; the client is gone by now
