"""Runs a service's coroutine until SIGINT or SIGTERM, with logging set up the same way everywhere."""

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any


def run_until_stopped(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the rest

    async def runner() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await main(stopping)

    asyncio.run(runner())
