"""What the chaos run reads back from the system it broke: the awards `cairn criteria check`
expects, the store's credentials, the SMTP server's mailbox, the dead-letter topics and every
record on the bus. The comparisons are devtools/chaos_verdict.py's."""

import asyncio
import bisect
import json
import re
import subprocess
import sys
import time
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.pipeline import say
from cairn.adapters.kafka import topics
from cairn.credentials.builder import evidence_entries
from cairn.usecases.criteria_check import load_badge_classes
from cairn.usecases.email_message import message_id_for
from devtools import chaos_verdict
from devtools.chaos_plan import Plan
from devtools.topic_reader import read_dead_letters, read_every_record
from schemas.awards import AwardGranted, award_id_for

EARNED_ON = re.compile(r"earned on (\d{1,2} \w+ \d{4})")


def database_url(env: dict[str, str]) -> str:
    return env.get("CAIRN_DATABASE_URL") or f"sqlite+aiosqlite:///{Path(env['CAIRN_VAR_DIR']) / 'cairn.db'}"


async def query(env: dict[str, str], sql: str) -> list[Any]:
    """One query on a fresh connection, retried while the database restarts."""
    for attempt in range(60):
        engine = create_async_engine(database_url(env))
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql))).all())
        except Exception as e:  # any driver's "server gone" while it restarts
            if attempt == 59:
                raise
            say(f"chaos: the store did not answer ({type(e).__name__}); trying again")
            await asyncio.sleep(1)
        finally:
            await engine.dispose()
    raise AssertionError("unreachable")


def _criteria_check(
    slug: str, events: list[dict[str, Any]], badges: list[dict[str, Any]], home: Path
) -> list[dict]:
    """The CLI, as a coordinator would run it, over every event the gateway accepted."""
    badge_file, event_file = home / f"badges-{slug}.json", home / f"accepted-{slug}.jsonl"
    badge_file.write_text(json.dumps(badges))
    event_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    out = subprocess.run(
        [sys.executable, "-m", "cairn.cli", "criteria", "check", str(badge_file), str(event_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


async def expected_awards(
    accepted: dict[str, list[dict[str, Any]]], badges: dict[str, list[dict[str, Any]]], env: dict[str, str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, str]]]:
    """Award id (as Cairn names it: organisation, class, recipient key, occurrence) -> the
    dates its credential's evidence should give, and -> whose it is (organisation slug, email)."""
    orgs = {slug: org_id for org_id, slug in await query(env, "SELECT id, slug FROM organisations")}
    keys = {
        (org_id, email.lower()): key
        for org_id, key, email in await query(env, "SELECT org_id, recipient_key, email FROM recipients")
    }
    home = Path(env["CAIRN_VAR_DIR"])
    expected, owners = {}, {}
    for slug, events in accepted.items():
        classes = {c.id: c for c in load_badge_classes(json.dumps(badges[slug]))}
        for award in await asyncio.to_thread(_criteria_check, slug, events, badges[slug], home):
            org_id, key = orgs[slug], keys[(orgs[slug], award["recipient"].lower())]
            award_id = award_id_for(org_id, award["badge_class_id"], key, award["occurrence"])
            fields = {k: v for k, v in award.items() if k != "recipient"}
            granted = AwardGranted.model_validate({**fields, "org_id": org_id, "recipient_key": key})
            expected[award_id] = _dates(evidence_entries(granted, classes[award["badge_class_id"]]))
            owners[award_id] = (slug, award["recipient"].lower())
    return expected, owners


def _dates(entries: list[dict[str, Any]]) -> tuple[str, ...]:
    """The dates a credential's evidence says it was earned on ("earned on 6 October 2026").
    Its figures are not compared: Cairn states them as they stood when the criteria were met,
    the whole-history check as they stand at the end."""
    return tuple(date for e in entries for date in EARNED_ON.findall(e.get("description", "")))


async def until_all_emailed(env: dict[str, str], expected: int, timeout: float) -> float | None:
    """When every expected credential is in the store and its email settled (no longer pending,
    sending or handed over), with nothing more arriving for 10 s; None on timeout."""
    deadline, quiet_since, last = time.monotonic() + timeout, None, None
    while time.monotonic() < deadline:
        [(issued, settled)] = await query(
            env,
            "SELECT (SELECT count(*) FROM credentials), "
            "(SELECT count(*) FROM notifications WHERE status NOT IN ('sending', 'handed_over'))",
        )
        if (issued, settled) != last:
            say(f"chaos: {issued}/{expected} credentials, {settled} emails settled")
            last, quiet_since = (issued, settled), time.time()
        elif issued >= expected and settled >= issued and time.time() - quiet_since >= 10:
            return quiet_since
        await asyncio.sleep(2)
    return None


def mailbox(mail_dir: Path) -> list[tuple[str, str, float]]:
    """(Message-ID, recipient address, when stored) of each message the SMTP server accepted."""
    parser = BytesHeaderParser()
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        with path.open("rb") as f:
            headers = parser.parse(f)
        found.append((headers["Message-ID"], parseaddr(headers["To"])[1].lower(), int(path.stem) / 1e9))
    return found


def smtp_faults_injected(var_dir: Path) -> dict[str, int]:
    path = var_dir / "run" / "smtp-faults-injected.json"
    return json.loads(path.read_text()) if path.exists() else {}


async def collect(
    env: dict[str, str],
    bootstrap: str,
    expected: dict[str, tuple[str, ...]],
    arrived_late: set[str],
    plan: Plan,
    var_dir: Path,
) -> tuple[dict[str, Any], list[tuple[str, str, float]]]:
    """The verdict's parts, and (organisation slug, volunteer email, when stored) per email."""
    rows = await query(
        env,
        "SELECT c.id, c.award_id, c.document, c.org_id, r.email FROM credentials c JOIN recipients r"
        " ON r.org_id = c.org_id AND r.recipient_key = c.recipient_key",
    )
    issued, owners = [], {}
    for credential_id, award_id, document, org_id, email in rows:
        document = json.loads(document) if isinstance(document, str) else document
        issued.append(chaos_verdict.Issued(credential_id, award_id, _dates(document.get("evidence", []))))
        owners[message_id_for(credential_id)] = (org_id, email.lower())
    slugs = {org_id: slug for org_id, slug in await query(env, "SELECT id, slug FROM organisations")}
    mails = mailbox(var_dir / "mail")
    say(f"chaos: reading every record on the bus for the verdict ({len(mails)} emails in the mailbox)")
    letters = {}
    for topic in topics.CONSUMED:
        found = await read_dead_letters(bootstrap, topic)
        letters[topic] = list({(x["partition"], x["offset"]): x for x in found}.values())
    every = await read_every_record(bootstrap)
    pairs = {topic: [(r.key or b"", r.value or b"") for r in records] for topic, records in every.items()}
    report = {
        "credentials": chaos_verdict.credentials_verdict(expected, issued, arrived_late),
        "emails": chaos_verdict.emails_verdict(
            {c.credential_id: message_id_for(c.credential_id) for c in issued}, [m for m, _, _ in mails]
        ),
        "dead_letters": chaos_verdict.dead_letters_verdict(plan.poison, letters),
        "personal_data": chaos_verdict.personal_data_found(
            pairs, [p["email"] for p in plan.people], [p["name"] for p in plan.people]
        )[:50],
        "records_scanned": sum(len(p) for p in pairs.values()),
        # sent, but settled by a notifier that found another's hand-over mark: counted, not judged
        # (the mailbox above says whether each really arrived)
        "recorded_unconfirmed": (
            await query(env, "SELECT count(*) FROM notifications WHERE last_error LIKE 'unconfirmed%'")
        )[0][0],
    }
    emailed = [(slugs[owners[m][0]], owners[m][1], at) for m, _, at in mails if m in owners]
    return report, emailed


def delay_pairs(
    emailed: list[tuple[str, str, float]], arrivals: dict[tuple[str, str], list[tuple[float, float, str]]]
) -> list[tuple[float, float]]:
    """(accepted, emailed) per email: from the last post for that volunteer and organisation
    accepted before the email was stored, to the moment the SMTP server stored it."""
    pairs = []
    for slug, email, at in emailed:
        times = sorted(accepted for _, accepted, _ in arrivals.get((slug, email), []))
        n = bisect.bisect_right(times, at)
        if n:
            pairs.append((times[n - 1], at))
    return pairs
