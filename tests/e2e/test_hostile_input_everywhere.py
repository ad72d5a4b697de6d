"""Hostile input through every door, then a look at everything the system kept and sent.

Volunteer names, programs, roles and sites carrying CR/LF header injection, NUL, bidi overrides
and other C0/C1 controls are posted with good records mixed in: through the API (one event, and
a batch), the CSV endpoint and the dashboard's CSV upload. Each hostile record must be refused
(422 naming the field, or the CSV row) and each good one accepted. Then, once the good
volunteers' badges are mailed, everything is read back:

- every Kafka topic of cairn/adapters/kafka/topics.py from the beginning: no email or name that was used;
- every text column of every table: no control character, nothing of the hostile records;
- every mail the SMTP sink received: no control character in a header, no Bcc, one recipient
  (in the message and in the SMTP envelope);
- every service log: no API key, claim token, master key or issuer private key.

The tests run in file order: the first four post, the last four inspect.
"""

import asyncio
import base64
import json
import re
import unicodedata
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import LargeBinary, create_engine, select

from cairn.adapters.kafka import topics
from cairn.adapters.logs import EMAIL
from cairn.adapters.secrets import load_or_create_master_key, unseal
from cairn.adapters.store import tables as t
from devtools.smtp_sink import read_mailbox
from tests.conftest import System, system_with, ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, wait_for_mail

pytestmark = pytest.mark.e2e
system = system_with("cairn-hostile")

HOSTILE_TEXT = {
    "crlf-bcc": "Sam\r\nBcc: evil@example.org",
    "lf": "Sam\nOkafor",
    "cr": "Sam\rOkafor",
    "nul": "Sam\x00Okafor",
    "rlo": "\u202eevil",
    "lre": "Sam\u202aOkafor",
    "lri": "Sam\u2066Okafor",
    "pdi": "Sam\u2069Okafor",
    "bel": "Sam\x07Okafor",
    "esc": "Sam\x1b[31mOkafor",
    "vt": "Sam\x0bOkafor",
    "del": "Sam\x7fOkafor",
    "nel-c1": "Sam\x85Okafor",
    "csi-c1": "Sam\x9bOkafor",
}
FIELDS = ["name", "program", "role", "site"]
GOOD = {  # one volunteer per door, each earning the 10-hour badge with two 5-hour shifts
    "api": ("ana.lima@example.org", "Ana Lima"),
    "batch": ("ben.adeyemi@example.org", "Ben Adeyemi"),
    "csv": ("cleo.novak@example.org", "Cleo Novak"),
    "dashboard": ("dev.patel@example.org", "Dev Patel"),
}
CSV_HEADER = "Id,E-mail,Volunteer Name,Shift Date,Time In,Time Out,Program,Role,Site\r\n"


def is_control(char: str) -> bool:
    """C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates."""
    return unicodedata.category(char) == "Cc" or "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069"


def hostile_shift(number: int, field: str, text: str) -> dict[str, Any]:
    """A 10-hour shift of its own volunteer with `text` in `field`: if accepted, it earns a badge
    and is mailed, so a leak shows in the mail too."""
    event = {
        "id": f"hostile-{field}-{number}",
        "type": "volunteer_shift",
        "volunteer": {"email": f"hostile{number}.{field}@example.org", "name": "Hostile Volunteer"},
        "started_at": "2026-11-02T08:00:00Z",
        "ended_at": "2026-11-02T18:00:00Z",
    }
    if field == "name":
        event["volunteer"]["name"] = text
    else:
        event[field] = text
    return event


def good_shift(door: str, day: int) -> dict[str, Any]:
    email, name = GOOD[door]
    return {
        "id": f"good-{door}-{day}",
        "type": "volunteer_shift",
        "volunteer": {"email": email, "name": name},
        "started_at": f"2026-11-{day:02d}T09:00:00Z",
        "ended_at": f"2026-11-{day:02d}T14:00:00Z",
        "program": "pantry",
        "role": "sorting",
        "site": "Riverside",
    }


def hostile_cases() -> Iterator[tuple[int, str, str]]:
    for number, text in enumerate(HOSTILE_TEXT.values()):
        for field in FIELDS:
            yield number, field, text


def csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def csv_row(event: dict[str, Any]) -> str:
    day = event["started_at"][8:10]
    cells = [
        event["id"],
        event["volunteer"]["email"],
        event["volunteer"]["name"],
        f"{day}/11/2026",
        event["started_at"][11:16],
        event["ended_at"][11:16],
        event.get("program") or "",
        event.get("role") or "",
        event.get("site") or "",
    ]
    return ",".join(csv_quote(cell) for cell in cells) + "\r\n"


COLUMN_OF = {"name": "Volunteer Name", "program": "Program", "role": "Role", "site": "Site"}


def hostile_csv(prefix: str) -> tuple[str, list[str]]:
    """Good rows and hostile rows interleaved; returns the file and, in order, the column each
    hostile row's error must name. (Row numbers are checked only to rise: a line break inside a
    hostile cell makes "the file's line" depend on which line breaks one counts.)"""
    rows, columns = [], []
    for number, field, text in hostile_cases():
        event = hostile_shift(number, field, text)
        event["id"] = f"{prefix}-{event['id']}"
        event["volunteer"]["email"] = f"{prefix}.{event['volunteer']['email']}"
        rows.append(csv_row(event))
        columns.append(COLUMN_OF[field])
        rows.append(csv_row({**good_shift("csv", 3), "id": f"{prefix}-good-{number}-{field}"}))
    return CSV_HEADER + "".join(rows), columns


def assert_one_error_per_hostile_row(errors: list[tuple[int, str | None]], columns: list[str]) -> None:
    """One error per hostile row, in order, naming its column where the error names one."""
    assert len(errors) == len(columns), errors
    assert all(named in (None, column) for (_, named), column in zip(errors, columns, strict=True)), errors
    numbers = [row for row, _ in errors]
    assert numbers == sorted(set(numbers)) and numbers[0] > 1, numbers


@pytest.fixture(scope="module")
def org(system: System) -> httpx.Client:
    client = organisation(system, "Riverside Guard Pantry", "riverside-guard")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    return client


def test_api_refuses_each_hostile_event_and_accepts_the_good_ones(org: httpx.Client):
    wrong = []
    for number, field, text in hostile_cases():
        response = org.post("/v1/events", json=hostile_shift(number, field, text))
        named = response.status_code == 422 and field in json.dumps(response.json()["detail"])
        if not named:
            wrong.append(f"{field}={text!r}: {response.status_code} {response.text[:200]}")
    for day in (3, 4):
        accepted = org.post("/v1/events", json=good_shift("api", day))
        assert accepted.status_code == 202, accepted.text
    assert not wrong, "hostile events not refused with a 422 naming the field:\n" + "\n".join(wrong)


def test_a_batch_with_a_hostile_event_is_refused_whole_naming_it(org: httpx.Client):
    wrong = []
    for number, field, text in hostile_cases():
        batch = [good_shift("batch", 5), hostile_shift(number, field, text), good_shift("batch", 6)]
        response = org.post("/v1/events", json={"events": batch})
        detail = json.dumps(response.json().get("detail")) if response.status_code == 422 else ""
        if not (response.status_code == 422 and field in detail and '"events", 1' in detail):
            wrong.append(f"{field}={text!r}: {response.status_code} {response.text[:200]}")
    accepted = org.post("/v1/events", json={"events": [good_shift("batch", 5), good_shift("batch", 6)]})
    assert accepted.status_code == 202, accepted.text
    assert not wrong, "batches not refused with a 422 naming the hostile event:\n" + "\n".join(wrong)


def test_csv_refuses_hostile_rows_by_number_and_takes_a_clean_file(org: httpx.Client):
    text, hostile_columns = hostile_csv("csv")
    refused = org.post("/v1/events/csv", files={"file": ("rota.csv", text.encode())})
    good = CSV_HEADER + csv_row(good_shift("csv", 7)) + csv_row(good_shift("csv", 8))
    posted = org.post("/v1/events/csv", files={"file": ("rota.csv", good.encode())})
    assert posted.status_code == 200 and len(posted.json()["accepted"]) == 2, posted.text
    assert refused.status_code == 422, refused.text[:2000]
    errors = refused.json()["detail"]["errors"]
    assert_one_error_per_hostile_row([(e["row"], e["column"]) for e in errors], hostile_columns)


def test_dashboard_upload_refuses_hostile_rows_and_posts_a_clean_file(system: System, org: httpx.Client):
    api_key = org.headers["Authorization"].removeprefix("Bearer ")
    dashboard = httpx.Client(base_url=system.public_url, follow_redirects=True, timeout=30)
    assert dashboard.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', dashboard.get("/dashboard/upload").text).group(1)
    form = {"token": token, "timezone": "UTC", "date_order": "dmy"}

    def preview(text: str) -> str:
        page = dashboard.post("/dashboard/upload", data=form, files={"file": ("rota.csv", text.encode())})
        assert page.status_code == 200, page.text[:2000]
        return page.text

    def confirm(text: str) -> str:
        page = dashboard.post("/dashboard/upload", data={**form, "csv_text": text, "confirm": "1"})
        assert page.status_code == 200, page.text[:2000]
        return page.text

    good = CSV_HEADER + csv_row(good_shift("dashboard", 9)) + csv_row(good_shift("dashboard", 10))
    assert 'id="confirm"' in preview(good)
    assert 'id="posted"' in confirm(good)
    hostile, hostile_columns = hostile_csv("dash")
    refused = preview(hostile)
    listed = re.findall(r"<li>Row (\d+)(?:, column “([^”]+)”)?", refused)
    assert_one_error_per_hostile_row([(int(row), column or None) for row, column in listed], hostile_columns)
    assert 'id="confirm"' not in refused
    # Sent straight to the confirm step, skipping the preview, the file is refused all the same.
    assert 'id="posted"' not in confirm(hostile), "the dashboard posted a file with hostile rows"


@pytest.fixture(scope="module")
def mails(system: System, org: httpx.Client) -> list[EmailMessage]:
    """Once every good volunteer's badge is mailed (the hostile tests above ran first)."""
    return wait_for_mail(system.mail_dir, len(GOOD), timeout=120)


def used_personal_data() -> set[str]:
    hostile = {f"hostile{number}.{field}@example.org" for number, field, _ in hostile_cases()}
    names = {name for _, name in GOOD.values()} | {"Hostile Volunteer", "evil@example.org"}
    return {email for email, _ in GOOD.values()} | hostile | names


async def all_kafka_records(bootstrap: str) -> dict[str, list[bytes]]:
    """Every record (key and value) of every topic of cairn/adapters/kafka/topics.py, from the beginning."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([spec.name for spec in topics.TOPICS])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        records: dict[str, list[bytes]] = {}
        for topic in described:
            partitions = [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
            assert partitions, f"no topic {topic['topic']}"
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records[topic["topic"]] = []
            while [p for p in partitions if await consumer.position(p) < ends[p]]:
                batch = await consumer.getmany(*partitions, timeout_ms=1000)
                for messages in batch.values():
                    records[topic["topic"]] += [(m.key or b"") + b" " + (m.value or b"") for m in messages]
        return records
    finally:
        await consumer.stop()


def test_no_personal_data_in_any_kafka_record(system: System, mails):
    records = asyncio.run(all_kafka_records(system.env["CAIRN_KAFKA_BOOTSTRAP"]))
    assert set(records) == {spec.name for spec in topics.TOPICS}
    assert records[topics.ACTIVITY] and records[topics.CREDENTIALS], "no records read back from Kafka"
    personal = used_personal_data()
    leaks = [
        f"{topic}: {value.decode(errors='replace')[:300]}"
        for topic, values in records.items()
        for value in values
        if any(item.lower() in value.decode(errors="replace").lower() for item in personal)
    ]
    assert not leaks, "personal data in Kafka records:\n" + "\n".join(leaks[:20])


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_no_control_character_or_hostile_record_in_the_database(system: System, mails):
    engine = create_engine(f"sqlite:///{system.var_dir / 'cairn.db'}")
    found = []
    with engine.connect() as connection:
        for table in t.Base.metadata.sorted_tables:
            columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    for text in strings_in(value):
                        if any(is_control(c) for c in text) or "hostile" in text.lower():
                            found.append(f"{table.name}.{column.name}: {text[:200]!r}")
    engine.dispose()
    assert not found, "the database kept hostile text:\n" + "\n".join(found[:30])


def test_mail_headers_carry_no_control_character_and_no_extra_recipient(system: System, mails):
    good_emails = {email for email, _ in GOOD.values()}
    problems = []
    stored = read_mailbox(system.mail_dir)
    for mail in stored:
        for name, raw in mail.raw_items():
            unfolded = re.sub(r"\r?\n[ \t]", " ", str(raw))
            decoded = str(mail[name])  # an encoded word may hide a control character
            if any(is_control(c) for c in unfolded + decoded):
                problems.append(f"{name}: {unfolded!r} = {decoded!r}")
        if "Bcc" in mail or "Cc" in mail:
            problems.append(f"a Bcc/Cc header in the mail to {mail['To']}")
        recipients = [a.addr_spec for a in mail["To"].addresses]
        if len(recipients) != 1 or recipients[0] not in good_emails:
            problems.append(f"recipients {recipients}")
        if "evil@example.org" in str(mail):
            problems.append(f"evil@example.org in the mail to {recipients}")
    # The envelope: a Bcc header becomes an extra RCPT TO and leaves the message, so the sink's
    # log of whom it received each mail for is the evidence.
    sink_log = (system.var_dir / "logs" / "smtp-sink.log").read_text()
    envelopes = re.findall(r"sink stored \S+ for (.*)", sink_log)
    if len(envelopes) != len(stored):
        problems.append(f"{len(envelopes)} envelopes logged for {len(stored)} mails")
    problems += [f"envelope recipients {e}" for e in envelopes if e.strip() not in good_emails]
    assert not problems, "\n".join(problems)


def test_no_secret_in_any_service_log(system: System, org: httpx.Client, mails):
    master_hex = system.var_dir.joinpath("master.key").read_text().strip()
    master = load_or_create_master_key(system.var_dir / "master.key")
    secrets = {
        "API key": org.headers["Authorization"].removeprefix("Bearer "),
        "master key": master_hex,
        "master key (base64)": base64.b64encode(master).decode(),
    }
    for number, mail in enumerate(mails):
        secrets[f"claim token {number}"] = claim_link(mail).rsplit("/", 1)[-1]
    engine = create_engine(f"sqlite:///{system.var_dir / 'cairn.db'}")
    with engine.connect() as connection:
        for key in connection.execute(select(t.IssuerKey)):
            private = unseal(master, key.secret_sealed, f"issuer:{key.org_id}").decode()
            secrets[f"issuer private key {key.id}"] = private
    engine.dispose()
    logs = [system.var_dir / "dev.log", *sorted((system.var_dir / "logs").glob("*.log"))]
    assert len(logs) > 1, "no service logs found"
    leaks = [
        f"{what} in {log.name}"
        for log in logs
        for what, secret in secrets.items()
        if secret and secret.lower() in log.read_text(errors="replace").lower()
    ]
    assert not leaks, "secrets in the logs: " + ", ".join(leaks)
    # The services' logs are JSON lines (cairn.adapters.logs) with no address in them; only the
    # dev SMTP sink, standing in for a mail server, names whom it received mail for.
    for log in logs:
        if log.name in ("dev.log", "smtp-sink.log"):
            continue
        lines = [line for line in log.read_text(errors="replace").splitlines() if line]
        assert all(line.startswith("{") and json.loads(line)["service"] for line in lines), log.name
        addresses = {a for a in EMAIL.findall(log.read_text()) if not a.endswith("@claim.cairn")}
        assert not addresses, f"email addresses in {log.name}: {sorted(addresses)[:5]}"
