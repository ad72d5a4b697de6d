"""How a person is referred to without their personal data leaving the store."""

import hashlib
import hmac


def normalise_email(email: str) -> str:
    return email.strip().lower()


def recipient_key(org_secret: bytes, email: str) -> str:
    """HMAC-SHA256 of the normalised email under the organisation's secret: the Kafka-side id."""
    return hmac.new(org_secret, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def identity_hash(email: str, salt: str) -> str:
    """Open Badges IdentityObject.identityHash: 'sha256$' + hex(sha256(email + salt))."""
    return "sha256$" + hashlib.sha256((normalise_email(email) + salt).encode()).hexdigest()
