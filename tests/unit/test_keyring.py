"""The keyring: what it seals only it (with the same master key and purpose) unseals, and its
MACs are stable for one master key and differ under another."""

import secrets

import pytest
from cryptography.exceptions import InvalidTag

from cairn.adapters.keyring import Keyring, token_hash
from cairn.credentials.multikey import public_key_multibase
from cairn.credentials.status_list import empty_bits, get_bit, with_bit
from cairn.domain.api_keys import all_scopes, checked_scopes
from cairn.domain.records import SCOPES


def test_issuer_keys_unseal_only_for_their_organisation() -> None:
    keyring = Keyring(secrets.token_bytes(32))
    sealed = keyring.mint_ed25519("org-a")
    key = keyring.unseal_ed25519("org-a", sealed.secret_sealed)
    assert public_key_multibase(key.public_key()) == sealed.public_multibase
    with pytest.raises(InvalidTag):
        keyring.unseal_ed25519("org-b", sealed.secret_sealed)
    with pytest.raises(InvalidTag):
        Keyring(secrets.token_bytes(32)).unseal_ed25519("org-a", sealed.secret_sealed)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_jwt_keys_round_trip(alg: str) -> None:
    keyring = Keyring(secrets.token_bytes(32))
    key, sealed = keyring.mint_jwt_key("org-a", alg)  # type: ignore[arg-type]
    assert sealed.algorithm == alg and sealed.public_jwk
    again = keyring.unseal_jwt_key("org-a", sealed.secret_sealed)
    assert again.private_numbers() == key.private_numbers()


def test_org_secret_gives_stable_recipient_keys() -> None:
    keyring = Keyring(secrets.token_bytes(32))
    sealed = keyring.new_org_secret("org-a")
    assert len(keyring.org_secret("org-a", sealed)) == 32
    assert keyring.recipient_key("org-a", sealed, "Ann@Example.org ") == keyring.recipient_key(
        "org-a", sealed, "ann@example.org"
    )


def test_macs_depend_on_the_master_key_and_their_inputs() -> None:
    one, other = Keyring(b"k" * 32), Keyring(b"o" * 32)
    assert one.claim_token("c", 0) == Keyring(b"k" * 32).claim_token("c", 0) != one.claim_token("c", 1)
    assert one.claim_token("c") != other.claim_token("c")
    assert len(one.claim_token("c")) == 43 and len(one.unsubscribe_code("o", "r")) == 32
    assert one.session_mac("x") != other.session_mac("x")
    assert one.unsubscribe_code_matches("o", "r", one.unsubscribe_code("o", "r"))
    assert not one.unsubscribe_code_matches("o", "r", "é" * 32)  # non-ASCII is refused, not an error


def test_api_keys_are_new_each_time_and_stored_as_hashes() -> None:
    first, second = Keyring.mint_api_key(), Keyring.mint_api_key()
    assert first.startswith("cairn_") and first != second
    assert token_hash(first) == token_hash(first) != first


def test_scope_policy() -> None:
    assert all_scopes() == set(SCOPES)
    assert checked_scopes(["read"]) == {"read"}
    with pytest.raises(ValueError, match="unknown scopes: root"):
        checked_scopes({"read", "root"})


def test_with_bit_sets_and_clears_one_bit_without_touching_the_input() -> None:
    assert with_bit(None, 9, False) == bytes(empty_bits())
    once = with_bit(None, 9, True)
    assert get_bit(once, 9) and not get_bit(once, 8)
    assert with_bit(once, 9, False) == bytes(empty_bits()) and get_bit(once, 9)


def test_random_tokens_are_fresh_and_shaped_as_stored() -> None:
    assert Keyring.mint_token() != Keyring.mint_token() and len(Keyring.mint_token()) == 43
    assert len(Keyring.new_salt()) == 32 and len(Keyring.unlinkable_key()) == 64
    int(Keyring.unlinkable_key(), 16)  # hex, like a recipient key
