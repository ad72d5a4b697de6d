"""Health for orchestrators: /healthz (the process answers) and /readyz (it can do its work:
the database answers at this Cairn's schema, Kafka answers and has every topic `cairn setup`
makes). A 503 names what is missing, so the person on call knows where to look."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.connection import described
from cairn.settings import Settings
from services.gateway.dependencies import SettingsDep, StoreDep

router = APIRouter(include_in_schema=False)
CHECK_SECONDS = 5.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {CHECK_SECONDS:g} s"
    return " ".join(f"{type(error).__name__}: {error}".split())[:300]


async def _database(store: StoreDep) -> str:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await store.check_ready()
    except Exception as error:
        return f"unavailable ({_reason(error)})"
    return "ok"


async def _kafka(settings: Settings) -> str:
    try:
        missing = await topics.missing_topics(settings, timeout=CHECK_SECONDS)
    except Exception as error:
        return f"unreachable at {described(settings)} ({_reason(error)})"
    return f"missing topics: {', '.join(missing)} (run cairn setup)" if missing else "ok"


@router.get("/readyz")
async def readyz(store: StoreDep, settings: SettingsDep) -> JSONResponse:
    database, kafka = await asyncio.gather(_database(store), _kafka(settings))
    checks = {"database": database, "kafka": kafka}
    failing = sorted(name for name, result in checks.items() if result != "ok")
    body = {"status": "not ready" if failing else "ready", "failing": failing, "checks": checks}
    return JSONResponse(body, status_code=503 if failing else 200)
