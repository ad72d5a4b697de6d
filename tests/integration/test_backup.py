"""`cairn backup --org` and `cairn restore` on real databases: the organisation of the database
made before migrations (tests/data/store/) is backed up and restored into an empty SQLite and
PostgreSQL database of an installation with ANOTHER master key (the keys travel under a
passphrase), where its credential still verifies, revoking it flips its bit, its claim link
opens, a new credential's status index does not collide and keys can still be rotated."""

import asyncio
import json
import os
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cairn.adapters.keyring import Keyring
from cairn.adapters.store import open_store
from cairn.adapters.store import tables as t
from cairn.adapters.store.backup import OrgExistsError
from cairn.cli import main
from cairn.credentials.status_list import get_bit
from cairn.settings import get_settings
from cairn.usecases.issuer_documents import own_then
from cairn.usecases.issuing import issue_credential
from cairn.usecases.status_changes import change_status
from cairn.usecases.verifying import verify
from schemas.awards import AwardGranted, Evidence
from tests.integration.test_migrations import FACTS, MASTER_KEY, PUBLIC_URL, _nowhere, old_database

pytestmark = pytest.mark.integration
OTHER_MASTER_KEY = bytes(range(32))
PASSPHRASE = "correct horse battery staple"


def key_files(tmp_path):
    """The source installation's master key, the restoring one's (another) and the passphrase."""
    (tmp_path / "master.key").write_text(MASTER_KEY.hex())
    (tmp_path / "other.key").write_text(OTHER_MASTER_KEY.hex())
    (tmp_path / "passphrase").write_text(PASSPHRASE + "\n")
    (tmp_path / "wrong").write_text("not the passphrase\n")
    return tmp_path / "master.key", tmp_path / "other.key", str(tmp_path / "passphrase")


async def plain_secrets(database_url: str) -> list[str]:
    """The organisation's secrets in the clear (issuer keys' multibase, the HMAC secret as hex)."""
    store = open_store(database_url, MASTER_KEY)
    keyring = Keyring(MASTER_KEY)
    try:
        async with store.engine.connect() as conn:
            keys = (await conn.execute(select(t.IssuerKey.secret_sealed))).scalars().all()
            org = (await conn.execute(select(t.Organisation.secret_sealed))).scalar_one()
    finally:
        await store.close()
    org_id = FACTS["org_id"]
    found = [keyring.unseal_for_backup(k, f"issuer:{org_id}").decode() for k in keys]
    return [*found, keyring.unseal_for_backup(org, f"org-secret:{org_id}").hex()]


def cairn(monkeypatch, database_url: str, key_file, *args: str) -> int:
    """The command line, as run: its own event loop (so from a thread in async tests)."""
    monkeypatch.setenv("CAIRN_DATABASE_URL", database_url)
    monkeypatch.setenv("CAIRN_MASTER_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    try:
        return main(list(args))
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
async def test_an_organisation_backed_up_and_restored_still_works(target, tmp_path, request, monkeypatch):
    source = await old_database("sqlite", tmp_path, request)
    key_file, other_key_file, passphrase = key_files(tmp_path)
    backup = tmp_path / "riverside.json"
    backed_up = await asyncio.to_thread(
        cairn,
        monkeypatch,
        source,
        key_file,
        "backup",
        "--org",
        "riverside",
        str(backup),
        "--passphrase-file",
        passphrase,
    )
    assert backed_up == 0
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    document = json.loads(backup.read_text())
    assert [len(document["tables"][n]) for n in ("credentials", "status_entries", "claim_tokens")] == [
        1,
        1,
        1,
    ]
    assert FACTS["api_key"] not in backup.read_text(), "keys only as stored: hashed or sealed"
    secrets = await plain_secrets(source)
    assert len(secrets) >= 2 and secrets[0].startswith("z")
    for secret in secrets:
        assert secret not in backup.read_text(), "no key material in the clear"
    assert document["secrets"]["kdf"] == "scrypt" and document["secrets"]["n"] >= 2**15

    if target == "sqlite":
        restored_url = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    else:
        from tests.integration.test_migrations import fresh_postgres

        restored_url = await fresh_postgres(request.getfixturevalue("postgres_url"))
    restore = ("restore", str(backup), "--passphrase-file")
    assert (
        await asyncio.to_thread(cairn, monkeypatch, restored_url, other_key_file, *restore, passphrase) == 0
    )

    store = open_store(restored_url, OTHER_MASTER_KEY)
    try:
        with pytest.raises(OrgExistsError):
            await store.restore_org(document, PASSPHRASE)
        org = await store.org_by_slug("riverside")
        assert org.id == FACTS["org_id"]
        assert (await store.api_key(FACTS["api_key"])).org.id == org.id
        credential = await store.credential(FACTS["credential_id"])
        fetch = own_then(store, PUBLIC_URL, _nowhere)
        assert (await verify(credential.document, fetch, require_status=True)).valid
        claim = await store.claim(FACTS["claim_token"])
        assert claim.credential.id == credential.id and not claim.expired

        old_index = await store.status_index(org.id, credential.id)
        badge = (await store.badge_classes(org.id))[0]
        recipient = next(iter(await store.recipients(org.id)))
        award = AwardGranted(
            award_id="99999999-2222-4333-8444-555555555555",
            org_id=org.id,
            badge_class_id=badge.id,
            badge_class_version=badge.version,
            recipient_key=recipient.recipient_key,
            occurrence=2,
            earned_at=datetime.now(UTC),
            evidence=[Evidence(measure="hours", achieved=20, required=10, seconds=72000)],
        )
        await issue_credential(store, award, PUBLIC_URL)
        new = await store.credential_by_award(award.award_id)
        assert await store.status_index(org.id, new.id) != old_index

        await change_status(store, org, credential.id, "revoke", "restored, then revoked", PUBLIC_URL)
        bits = (await store.status_list(org.id, "revocation")).bits
        assert get_bit(bits, old_index) and not get_bit(bits, await store.status_index(org.id, new.id))
        assert not (await verify(credential.document, fetch, require_status=True)).valid
        assert (await verify(new.document, fetch, require_status=True)).valid

        await store.rotate_issuer_key(org.id)  # the issuer keys' ids come from the new database
        assert len(await store.issuer_public_keys(org.id)) == 2
        assert (await verify(new.document, fetch, require_status=True)).valid, "old keys still listed"
    finally:
        await store.close()


def test_restore_refuses_an_organisation_already_there(tmp_path, monkeypatch, capsys, request):
    source = asyncio.run(old_database("sqlite", tmp_path, request))
    key_file, _, passphrase = key_files(tmp_path)
    backup = tmp_path / "b.json"
    with_passphrase = ("--passphrase-file", passphrase)
    assert (
        cairn(monkeypatch, source, key_file, "backup", "--org", "riverside", str(backup), *with_passphrase)
        == 0
    )
    assert cairn(monkeypatch, source, key_file, "restore", str(backup), *with_passphrase) == 1
    assert "organisation 'riverside' is already in this database" in capsys.readouterr().err
    nope = ("backup", "--org", "nope", str(backup), *with_passphrase)
    assert cairn(monkeypatch, source, key_file, *nope) == 1


def test_a_wrong_passphrase_is_refused_and_nothing_written(tmp_path, monkeypatch, capsys, request):
    source = asyncio.run(old_database("sqlite", tmp_path, request))
    key_file, other_key_file, passphrase = key_files(tmp_path)
    backup = tmp_path / "b.json"
    assert (
        cairn(
            monkeypatch,
            source,
            key_file,
            "backup",
            "--org",
            "riverside",
            str(backup),
            "--passphrase-file",
            passphrase,
        )
        == 0
    )
    target = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
    wrong = str(tmp_path / "wrong")
    assert cairn(monkeypatch, target, other_key_file, "restore", str(backup), "--passphrase-file", wrong) == 1
    assert "wrong passphrase" in capsys.readouterr().err

    async def organisations() -> int:
        store = open_store(target, OTHER_MASTER_KEY)
        try:
            async with store.engine.connect() as conn:
                return len((await conn.execute(select(t.Organisation.id))).all())
        finally:
            await store.close()

    assert asyncio.run(organisations()) == 0, "nothing restored"
    restore = ("restore", str(backup), "--passphrase-file", passphrase)
    assert cairn(monkeypatch, target, other_key_file, *restore) == 0
    assert asyncio.run(organisations()) == 1
