"""The master key and the AES-GCM envelope that keeps issuer keys and org secrets encrypted at rest."""

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
