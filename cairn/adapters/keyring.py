"""Every secret Cairn derives from its master key: sealed issuer keys and org secrets, and the MACs
behind session cookies, claim links and unsubscribe links. The store persists only what this seals."""

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from cairn.adapters.secrets import seal, unseal
from cairn.credentials import vc_jwt
from cairn.credentials.multikey import public_key_multibase, secret_key_from_multibase, secret_key_multibase
from cairn.domain import identity
from cairn.domain.records import API_KEY_PREFIX, SealedKey


def token_hash(token: str) -> str:
    """What the store keeps of a bearer token (API key, claim or sign-in link): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class Keyring:
    """Holds the master key; nothing outside this class sees it."""

    def __init__(self, master_key: bytes) -> None:
        self._master_key = master_key

    # organisation secrets (behind recipient keys)

    def new_org_secret(self, org_id: str) -> bytes:
        """A new organisation's HMAC secret, sealed for storing."""
        return seal(self._master_key, secrets.token_bytes(32), f"org-secret:{org_id}")

    def org_secret(self, org_id: str, sealed: bytes) -> bytes:
        return unseal(self._master_key, sealed, f"org-secret:{org_id}")

    def recipient_key(self, org_id: str, sealed_secret: bytes, email: str) -> str:
        """The pseudonymous key the organisation's records use for the person with `email`."""
        return identity.recipient_key(self.org_secret(org_id, sealed_secret), email)

    # issuer keys

    def mint_ed25519(self, org_id: str) -> SealedKey:
        key = Ed25519PrivateKey.generate()
        return SealedKey(
            algorithm="Ed25519",
            public_multibase=public_key_multibase(key.public_key()),
            public_jwk=None,
            secret_sealed=seal(self._master_key, secret_key_multibase(key).encode(), f"issuer:{org_id}"),
        )

    def unseal_ed25519(self, org_id: str, sealed: bytes) -> Ed25519PrivateKey:
        return secret_key_from_multibase(unseal(self._master_key, sealed, f"issuer:{org_id}").decode())

    def mint_jwt_key(self, org_id: str, alg: vc_jwt.Algorithm) -> tuple[vc_jwt.PrivateKey, SealedKey]:
        """A new RS256 or ES256 key, in memory and sealed."""
        key = vc_jwt.generate_key(alg)
        jwk = vc_jwt.public_jwk(key.public_key())
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        sealed = SealedKey(
            algorithm=alg,
            public_multibase=vc_jwt.jwk_thumbprint(jwk),
            public_jwk=jwk,
            secret_sealed=seal(self._master_key, pem, f"issuer:{org_id}"),
        )
        return key, sealed

    def unseal_jwt_key(self, org_id: str, sealed: bytes) -> vc_jwt.PrivateKey:
        key = load_pem_private_key(unseal(self._master_key, sealed, f"issuer:{org_id}"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(f"organisation {org_id} has a sealed JWT key of an unexpected type")
        return key

    # webhook signing secrets: shown once, kept sealed (the store must sign with them again)

    def seal_webhook_secret(self, endpoint_id: str, secret: str) -> bytes:
        return seal(self._master_key, secret.encode(), f"webhook:{endpoint_id}")

    def unseal_webhook_secret(self, endpoint_id: str, sealed: bytes) -> str:
        return unseal(self._master_key, sealed, f"webhook:{endpoint_id}").decode()

    # backups: the plain secret leaves the keyring only to be re-encrypted under a passphrase

    def unseal_for_backup(self, sealed: bytes, purpose: str) -> bytes:
        """An org secret (purpose `org-secret:ORG`) or issuer key (`issuer:ORG`) in the clear."""
        return unseal(self._master_key, sealed, purpose)

    def seal_restored(self, secret: bytes, purpose: str) -> bytes:
        """A secret from a backup, sealed under this installation's master key."""
        return seal(self._master_key, secret, purpose)

    # bearer tokens and MACs

    @staticmethod
    def mint_api_key() -> str:
        """A new API key (shown once; the store keeps only its token_hash)."""
        return API_KEY_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def mint_token(nbytes: int = 32) -> str:
        """A random URL-safe token: sign-in links (256 bits), wallet exchange ids and challenges."""
        return secrets.token_urlsafe(nbytes)

    @staticmethod
    def new_salt() -> str:
        """The salt of a person's identityHash (128 bits, hex)."""
        return secrets.token_hex(16)

    @staticmethod
    def unlinkable_key() -> str:
        """What an erased person's credentials are filed under: random, no longer derivable from
        the email, the same shape as a recipient key."""
        return secrets.token_hex(32)

    def session_mac(self, value: str) -> str:
        """Signs dashboard session cookies and form tokens."""
        return self._mac(f"session:{value}")

    def claim_token(self, credential_id: str, generation: int = 0) -> str:
        """Deterministic but unguessable, so an email re-sent after a crash carries the same link."""
        return self._mac(f"claim:{credential_id}:{generation}")[:43]

    def unsubscribe_code(self, org_id: str, recipient_key: str) -> str:
        return self._mac(f"unsubscribe:{org_id}:{recipient_key}")[:32]

    def unsubscribe_code_matches(self, org_id: str, recipient_key: str, code: str) -> bool:
        # as bytes: compare_digest refuses a str with non-ASCII characters (a 500 the fuzzing found)
        return hmac.compare_digest(code.encode(), self.unsubscribe_code(org_id, recipient_key).encode())

    def check_in_code(self, session_id: str) -> str:
        """Signs a workshop check-in link, so only links the host was shown open the form."""
        return self._mac(f"check-in:{session_id}")[:32]

    def check_in_code_matches(self, session_id: str, code: str) -> bool:
        return hmac.compare_digest(code.encode(), self.check_in_code(session_id).encode())

    def _mac(self, message: str) -> str:
        return hmac.new(self._master_key, message.encode(), "sha256").hexdigest()
