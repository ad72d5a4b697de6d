"""Where `cairn backup` / `cairn restore` take the passphrase from, and the key derived from it."""

import argparse

import pytest

from cairn.adapters.secrets import (
    SCRYPT_DEFAULTS,
    WrongPassphraseError,
    passphrase_key,
    seal,
    unseal_with_passphrase_key,
)
from cairn.cli import backup


def test_the_passphrase_comes_from_the_files_first_line_or_is_asked_twice(tmp_path, monkeypatch):
    (tmp_path / "p").write_text("first line\nignored\n")
    assert backup._passphrase(argparse.Namespace(passphrase_file=str(tmp_path / "p")), confirm=True) == (
        "first line"
    )
    answers = iter(["typed", "typed"])
    monkeypatch.setattr(backup.getpass, "getpass", lambda prompt: next(answers))
    assert backup._passphrase(argparse.Namespace(passphrase_file=None), confirm=True) == "typed"
    answers = iter(["typed", "mistyped"])
    with pytest.raises(ValueError, match="differ"):
        backup._passphrase(argparse.Namespace(passphrase_file=None), confirm=True)
    (tmp_path / "empty").write_text("")
    with pytest.raises(ValueError, match="empty"):
        backup._passphrase(argparse.Namespace(passphrase_file=str(tmp_path / "empty")), confirm=False)


def test_only_the_right_passphrase_and_purpose_open_a_secret():
    salt = b"s" * 16
    key = passphrase_key("right", salt, **SCRYPT_DEFAULTS)
    blob = seal(key, b"secret", "issuer:org")
    assert unseal_with_passphrase_key(key, blob, "issuer:org") == b"secret"
    with pytest.raises(WrongPassphraseError):
        unseal_with_passphrase_key(passphrase_key("wrong", salt, **SCRYPT_DEFAULTS), blob, "issuer:org")
    with pytest.raises(WrongPassphraseError):
        unseal_with_passphrase_key(key, blob, "org-secret:org")  # not swappable between purposes
    assert passphrase_key("right", b"t" * 16, **SCRYPT_DEFAULTS) != key, "the salt matters"
    with pytest.raises(ValueError, match="scrypt parameters"):
        passphrase_key("right", salt, n=2**30, r=8, p=1)  # a file must not make us allocate 1 TiB
