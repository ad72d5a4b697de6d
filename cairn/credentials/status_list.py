"""W3C Bitstring Status List v1.0: the list credential, its encoding, and entries (pure).

Each organisation has one list per purpose (revocation, suspension) of LIST_SIZE bits; a
credential gets one random index, used in both lists. Bit 0 is the most significant bit of
the first byte; encodedList is 'u' + base64url (no padding) of the GZIP of the bits.
"""

import base64
import gzip
import secrets
from typing import Any, Literal

from cairn.credentials.contexts import VC_V2

LIST_SIZE = 131_072  # the spec's minimum: 16 KiB, so one credential hides among many
Purpose = Literal["revocation", "suspension"]
PURPOSES: tuple[Purpose, ...] = ("revocation", "suspension")


class StatusListError(ValueError):
    pass


def empty_bits() -> bytearray:
    return bytearray(LIST_SIZE // 8)


def set_bit(bits: bytearray, index: int, value: bool) -> None:
    mask = 0x80 >> (index % 8)
    if value:
        bits[index // 8] |= mask
    else:
        bits[index // 8] &= ~mask & 0xFF


def with_bit(bits: bytes | None, index: int, value: bool) -> bytes:
    """The list with one credential's bit set or cleared; no list yet is an all-clear one."""
    changed = bytearray(bits) if bits is not None else empty_bits()
    set_bit(changed, index, value)
    return bytes(changed)


def get_bit(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def encode(bits: bytes) -> str:
    # mtime=0 so the same bits always encode to the same text
    return (
        "u"
        + base64.urlsafe_b64encode(gzip.compress(bytes(bits), compresslevel=6, mtime=0)).rstrip(b"=").decode()
    )


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise StatusListError("encodedList must be multibase base64url ('u' prefix)")
    body = encoded[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, OSError) as e:
        raise StatusListError(f"encodedList is not GZIP'd base64url: {e}") from e


def random_index() -> int:
    """Random, so an index says nothing about when or to whom a credential was issued; the
    store retries on a collision."""
    return secrets.randbelow(LIST_SIZE)


def list_url(public_url: str, org_slug: str, purpose: Purpose) -> str:
    return f"{public_url}/orgs/{org_slug}/status/{purpose}"


def status_entries(public_url: str, org_slug: str, index: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{list_url(public_url, org_slug, purpose)}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": list_url(public_url, org_slug, purpose),
        }
        for purpose in PURPOSES
    ]


def list_credential(url: str, issuer: str, purpose: Purpose, bits: bytes, valid_from: str) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential."""
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode(bits),
        },
    }


def status_of(entry: dict[str, Any], list_document: dict[str, Any]) -> bool:
    """True when the entry's bit is set; checks the list is the one the entry points to."""
    subject = list_document.get("credentialSubject") or {}
    if list_document.get("id") != entry.get("statusListCredential"):
        raise StatusListError("the status list is not the one the credential points to")
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise StatusListError("the status list's purpose differs from the entry's")
    try:
        index = int(entry.get("statusListIndex", ""))
    except ValueError as e:
        raise StatusListError("statusListIndex is not a base-10 integer") from e
    bits = decode(subject.get("encodedList", ""))
    if len(bits) * 8 < LIST_SIZE:
        raise StatusListError(f"status list has {len(bits) * 8} entries, fewer than the {LIST_SIZE} required")
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"statusListIndex {index} is outside the list")
    return get_bit(bits, index)
