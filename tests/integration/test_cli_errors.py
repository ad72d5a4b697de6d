"""The `cairn` command reports every failure in one line on stderr with exit status 1, never a
traceback (run as a subprocess over a throwaway SQLite store; no Kafka needed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cairn.settings import REPO_ROOT


@pytest.fixture
def cairn(tmp_path: Path):
    env = {**os.environ, "CAIRN_VAR_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cairn.cli", *args],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def refused(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr
    return done.stderr


def test_org_create_derives_the_slug_from_the_name_by_the_one_rule(cairn):
    made = cairn("org", "create", "Café & Co / Soup Kitchen")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("organisation ") and "slug cafe-co-soup-kitchen" in made.stdout


def test_org_create_refuses_an_existing_organisation_name(cairn):
    assert cairn("org", "create", "Riverside Food Bank").returncode == 0
    refused(
        cairn("org", "create", "Riverside Food Bank"),
        "cairn org create:",
        "'riverside-food-bank' is taken",
    )


def test_org_create_refuses_a_slug_that_is_not_one(cairn):
    refused(
        cairn("org", "create", "Café", "--slug", "café-&-co-/-soup-kitchen"),
        "slug: 'café-&-co-/-soup-kitchen' is not a slug",
    )


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--url", "javascript:alert(1)", "url: URL scheme should be 'http' or 'https'"),
        (
            "--image-url",
            'https://example.org/logo.png" onerror="alert(1)',
            "image_url: a URL must not contain",
        ),
        ("--email", "not-an-address", "email:"),
    ],
)
def test_org_create_refuses_bad_urls(cairn, option, value, reason):
    refused(cairn("org", "create", "Riverside", option, value), reason)


def test_org_create_refuses_control_characters_in_the_name(cairn):
    refused(cairn("org", "create", "Riverside\u202eevil"), "name: must not contain", "U+202E")


def test_an_unexpected_failure_is_still_one_line(cairn):
    refused(cairn("keys", "rotate", "--org", "riverside"), "cairn keys rotate: unexpected OperationalError")


def test_a_missing_key_file_is_one_line(cairn, tmp_path):
    credential = tmp_path / "credential.json"
    credential.write_text("{}")
    refused(
        cairn("sign", "--key", str(tmp_path / "missing.json"), str(credential)), "cairn sign:", "missing.json"
    )


def test_a_missing_csv_file_is_one_line(cairn, tmp_path):
    refused(
        cairn("events", "import", "--dry-run", str(tmp_path / "rota.csv")), "cairn events import:", "rota.csv"
    )


def test_a_windows_1252_csv_gets_the_export_advice(cairn, tmp_path):
    rota = tmp_path / "rota.csv"
    rota.write_bytes("Email,Name,Date,Hours\nzoe@example.org,Zoë,28/11/2026,2\n".encode("cp1252"))
    refused(cairn("events", "import", "--dry-run", str(rota)), "not UTF-8 text", "CSV UTF-8")


def test_a_revocation_reason_with_control_characters_is_refused(cairn):
    refused(
        cairn(
            "credentials",
            "revoke",
            "urn:uuid:00000000-0000-4000-8000-000000000000",
            "--reason",
            "a\r\nBcc: x",
        ),
        "cairn credentials revoke: reason: must not contain",
    )


def test_an_unknown_credential_is_one_line(cairn):
    assert cairn("org", "create", "Riverside").returncode == 0  # the store's schema exists
    refused(
        cairn("credentials", "revoke", "urn:uuid:00000000-0000-4000-8000-000000000000"),
        "no credential urn:uuid:00000000-0000-4000-8000-000000000000",
    )
