"""Runs a service's coroutine until SIGINT or SIGTERM, with logging (JSON lines, see
cairn.adapters.logs) and its metrics endpoint set up the same way everywhere."""

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from cairn.adapters import logs
from cairn.adapters.metrics import serve_metrics
from cairn.settings import get_settings


def run_until_stopped(
    main: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    service: str = "cairn",
    metrics_port: int = 0,
    log_format: str | None = None,
) -> None:
    """`log_format` overrides CAIRN_LOG_FORMAT (the dev SMTP sink logs text: its envelope
    lines are the tests' evidence of whom each mail went to)."""
    settings = get_settings()
    logs.configure(service, text=(log_format or settings.log_format) == "text")
    serve_metrics(metrics_port, service, settings.metrics_host)

    async def runner() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await main(stopping)

    asyncio.run(runner())
