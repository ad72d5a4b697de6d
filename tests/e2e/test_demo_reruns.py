"""`make demo` run again on the same var dir: the same two organisations, six badge classes and
credentials, no new emails, one revoked credential and a questioned award, and the API keys
shown each time (kept in var/demo.env)."""

import asyncio
import sqlite3
import time
from datetime import datetime

import httpx
import pytest

from cairn.settings import Settings
from devtools.demo import demo_env_file, read_demo_env, run_demo
from devtools.demo_season import ORGS, expected_awards, season
from devtools.smtp_sink import read_mailbox

pytestmark = pytest.mark.e2e


def keys(settings: Settings) -> dict[str, str]:
    env = read_demo_env(demo_env_file(settings))
    return {org.slug: env[f"{org.env_prefix}_API_KEY"] for org in ORGS}


def what_is_stored(system, api_keys: dict[str, str]) -> dict[str, object]:
    with sqlite3.connect(system.var_dir / "cairn.db") as db:
        orgs = sorted(db.execute("SELECT slug, name FROM organisations").fetchall())
        versions = sorted(db.execute("SELECT id, version FROM badge_classes").fetchall())
    credentials, questions = {}, {}
    for slug, key in api_keys.items():
        with httpx.Client(base_url=system.public_url, headers={"Authorization": f"Bearer {key}"}) as api:
            found = api.get("/v1/credentials").raise_for_status().json()
            credentials[slug] = sorted((c["id"], c["badge_class_id"], c["status"]) for c in found)
            questions[slug] = [
                q["award_id"] for q in api.get("/v1/award-questions").raise_for_status().json()
            ]
    return {
        "orgs": orgs,
        "badge versions": versions,
        "credentials": credentials,
        "questions": questions,
        "mails": len(read_mailbox(system.mail_dir)),
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
    first = await run_demo(settings, wait_seconds=240)
    fresh_seconds = time.monotonic() - started
    api_keys = keys(settings)
    fresh_out = capsys.readouterr().out
    assert all(key in fresh_out for key in api_keys.values()) and "fixit-cafe" in fresh_out
    await settle()
    seeded = what_is_stored(system, api_keys)
    assert seeded["orgs"] == [("fixit-cafe", "Fixit Repair Café"), ("riverside", "Riverside Food Bank")]
    assert len(seeded["badge versions"]) == 6 and {v for _, v in seeded["badge versions"]} == {1}
    anchor = read_demo_env(demo_env_file(settings))["CAIRN_DEMO_ANCHOR"]
    events = season(datetime.fromisoformat(anchor))
    for slug, found in seeded["credentials"].items():
        assert len(found) == len(expected_awards(slug, events[slug])), slug
    statuses = [status for found in seeded["credentials"].values() for _, _, status in found]
    assert statuses.count("revoked") == 1
    assert len(seeded["questions"]["riverside"]) >= 1
    assert seeded["mails"] == sum(len(f) for f in seeded["credentials"].values())
    earners = {email for slug in events for email, _ in expected_awards(slug, events[slug])}
    assert set(first) == earners

    started = time.monotonic()
    again = await run_demo(settings, wait_seconds=240)
    reused_seconds = time.monotonic() - started
    assert again == first, "the same claim links"
    assert keys(settings) == api_keys
    out = capsys.readouterr().out
    assert all(key in out for key in api_keys.values()), "the keys are shown again, not only the first time"
    await settle()
    assert what_is_stored(system, api_keys) == seeded, "same credentials, no new emails"

    demo_env_file(settings).unlink()  # the keys are lost: new ones for the same organisations
    await run_demo(settings, wait_seconds=240)
    new_keys = keys(settings)
    assert all(new_keys[slug] != api_keys[slug] for slug in api_keys)
    await settle()
    assert what_is_stored(system, new_keys) == seeded
    print(fresh_out)
    print(f"\ndemo to claim links: {fresh_seconds:.1f} s fresh, {reused_seconds:.1f} s reused")
