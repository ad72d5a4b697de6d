"""The master key and the AES-GCM envelope that keeps issuer keys and org secrets encrypted at rest."""

import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

NONCE_BYTES = 12


def load_or_create_master_key(path: Path) -> bytes:
    """A 256-bit key in a file only the owner can read, created on first use.

    Several services may start at once: the key is written to a private temporary file and
    linked into place, so every process ends up reading the one key that won.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".master-key-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(AESGCM.generate_key(bit_length=256).hex())
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) != 32:
        raise ValueError(f"{path} must hold a 32-byte key as hex")
    return key


def seal(master_key: bytes, plaintext: bytes, purpose: str) -> bytes:
    """nonce || ciphertext; `purpose` is bound as associated data so a blob can't be swapped."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, plaintext, purpose.encode())


def unseal(master_key: bytes, blob: bytes, purpose: str) -> bytes:
    return AESGCM(master_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode())


# Backups: secrets re-encrypted under a key derived from a passphrase, so that a backup can be
# restored into an installation with another master key.
SCRYPT_DEFAULTS = {"n": 2**15, "r": 8, "p": 1}  # 32 MiB, about 0.1 s: once per backup or restore
SCRYPT_MAX_N = 2**20  # a file asking for more memory than 1 GiB is refused, not obeyed


class WrongPassphraseError(ValueError):
    """The passphrase does not open the backup's keys."""


def passphrase_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """A 256-bit AES key from a passphrase (scrypt; the salt and parameters travel with the file)."""
    if not passphrase:
        raise ValueError("the passphrase is empty")
    if not (2 <= n <= SCRYPT_MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError(f"unusable scrypt parameters in the backup: n={n} r={r} p={p}")
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def unseal_with_passphrase_key(key: bytes, blob: bytes, purpose: str) -> bytes:
    try:
        return unseal(key, blob, purpose)
    except InvalidTag:
        raise WrongPassphraseError("wrong passphrase: the backup's keys do not open with it") from None
