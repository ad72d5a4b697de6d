"""The master key and the AES-GCM envelope that keeps issuer keys and org secrets encrypted at rest."""

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def load_or_create_master_key(path: Path) -> bytes:
    """A 256-bit key in a file only the owner can read; created on first use."""
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != 32:
            raise ValueError(f"{path} must hold 32 bytes as hex")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def seal(master_key: bytes, plaintext: bytes, purpose: str) -> bytes:
    """nonce || ciphertext; `purpose` is bound as associated data so a blob can't be swapped."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, plaintext, purpose.encode())


def unseal(master_key: bytes, blob: bytes, purpose: str) -> bytes:
    return AESGCM(master_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode())
