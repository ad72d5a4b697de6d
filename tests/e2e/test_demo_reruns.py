"""`make demo` run again on the same var dir: one Riverside Food Bank, the same badge class and
credentials, no new emails, and the API key shown each time (kept in var/demo.env)."""

import asyncio
import sqlite3
import time

import httpx
import pytest

from cairn.settings import Settings
from devtools.demo import demo_env_file, read_demo_env, run_demo
from devtools.smtp_sink import read_mailbox

pytestmark = pytest.mark.e2e
EARNERS = {"ana@example.org", "ben@example.org"}


def what_is_stored(system, api_key: str) -> dict[str, object]:
    with sqlite3.connect(system.var_dir / "cairn.db") as db:
        orgs = db.execute("SELECT slug, name FROM organisations").fetchall()
        versions = db.execute("SELECT id, version FROM badge_classes").fetchall()
    with httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {api_key}"}) as api:
        credentials = sorted(c["id"] for c in api.get("/v1/credentials").raise_for_status().json())
        progress = api.get("/v1/recipients/chi@example.org/progress").raise_for_status().json()
    return {
        "orgs": orgs,
        "badge versions": versions,
        "credentials": credentials,
        "mails": len(read_mailbox(system.mail_dir)),
        "chi's progress": progress["badges"],
    }


async def settle() -> None:
    """Time for the pipeline to act on events posted again, were it to act on them at all."""
    await asyncio.sleep(10)


async def test_the_demo_run_again_changes_nothing(system, capsys):
    settings = Settings(
        var_dir=system.var_dir,
        public_url=system.public_url,
        kafka_bootstrap=system.env["CAIRN_KAFKA_BOOTSTRAP"],
    )
    started = time.monotonic()
    first = await run_demo(settings, wait_seconds=120)
    fresh_seconds = time.monotonic() - started
    assert set(first) == EARNERS
    key = read_demo_env(demo_env_file(settings))["CAIRN_DEMO_API_KEY"]
    assert key in capsys.readouterr().out
    await settle()
    seeded = what_is_stored(system, key)
    assert seeded["orgs"] == [("riverside", "Riverside Food Bank")]
    assert seeded["badge versions"] == [("pantry-10-hours", 1)] and len(seeded["credentials"]) == 2

    started = time.monotonic()
    again = await run_demo(settings, wait_seconds=120)
    reused_seconds = time.monotonic() - started
    assert again == first, "the same claim links"
    assert read_demo_env(demo_env_file(settings))["CAIRN_DEMO_API_KEY"] == key
    assert key in capsys.readouterr().out, "the key is shown again, not only the first time"
    await settle()
    assert what_is_stored(system, key) == seeded

    demo_env_file(settings).unlink()  # the key is lost: a new one for the same organisation
    await run_demo(settings, wait_seconds=120)
    new_key = read_demo_env(demo_env_file(settings))["CAIRN_DEMO_API_KEY"]
    assert new_key != key
    await settle()
    assert what_is_stored(system, new_key) == seeded
    print(f"\ndemo to claim links: {fresh_seconds:.1f} s fresh, {reused_seconds:.1f} s reused")
