"""Verification of a signed credential, each check reported separately with its reason.

The same code serves `cairn verify`, the verify API and the public credential page. Key
resolution is injected so this module stays pure: did:key resolves here, offline.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cairn.credentials import proofs
from cairn.credentials.contexts import VC_V2
from cairn.credentials.multikey import public_key_from_multibase

KeyResolver = Callable[[str], Ed25519PublicKey]


class ResolutionError(ValueError):
    pass


def resolve_did_key(verification_method: str) -> Ed25519PublicKey:
    """did:key:z6Mk…#z6Mk… → the Ed25519 public key it encodes."""
    did, _, fragment = verification_method.partition("#")
    if not did.startswith("did:key:"):
        raise ResolutionError(f"cannot resolve {did!r} offline (only did:key is resolved here)")
    multibase = did.removeprefix("did:key:")
    if fragment and fragment != multibase:
        raise ResolutionError("did:key fragment does not match the key")
    try:
        return public_key_from_multibase(multibase)
    except ValueError as e:
        raise ResolutionError(str(e)) from e


@dataclass
class Check:
    name: str
    ok: bool
    reason: str = ""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.reason}" for c in self.checks if not c.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checks": [{"check": c.name, "ok": c.ok, "reason": c.reason} for c in self.checks],
        }


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _check_shape(credential: dict[str, Any]) -> Check:
    context = credential.get("@context")
    types = credential.get("type") or []
    subject = credential.get("credentialSubject") or {}
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        return Check("shape", False, f"@context must start with {VC_V2}")
    if "VerifiableCredential" not in types or not (
        "OpenBadgeCredential" in types or "AchievementCredential" in types
    ):
        return Check("shape", False, "type must include VerifiableCredential and OpenBadgeCredential")
    if not isinstance(subject, dict) or "achievement" not in subject:
        return Check("shape", False, "credentialSubject has no achievement")
    if "id" not in subject and not subject.get("identifier"):
        return Check("shape", False, "credentialSubject needs an id or an identifier")
    return Check("shape", True)


def _check_validity(credential: dict[str, Any], now: datetime) -> Check:
    def parse(name: str) -> datetime | None:
        value = credential.get(name)
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None

    try:
        valid_from, valid_until = parse("validFrom"), parse("validUntil")
    except ValueError as e:
        return Check("validity", False, f"unreadable date: {e}")
    if valid_from and now < valid_from:
        return Check("validity", False, f"not valid before {credential['validFrom']}")
    if valid_until and now > valid_until:
        return Check("validity", False, f"expired at {credential['validUntil']}")
    return Check("validity", True)


def verify_credential(
    credential: dict[str, Any],
    resolve_key: KeyResolver = resolve_did_key,
    now: datetime | None = None,
) -> Report:
    report = Report()
    report.checks.append(_check_shape(credential))
    proof = credential.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    key = None
    if not isinstance(method, str):
        report.checks.append(Check("issuer key", False, "proof names no verificationMethod"))
    elif method.partition("#")[0] != _issuer_id(credential):
        report.checks.append(Check("issuer key", False, "verificationMethod is not the issuer's"))
    else:
        try:
            key = resolve_key(method)
            report.checks.append(Check("issuer key", True))
        except ResolutionError as e:
            report.checks.append(Check("issuer key", False, str(e)))
    if key is not None:
        try:
            proofs.verify(credential, key)
            report.checks.append(Check("proof", True))
        except proofs.ProofError as e:
            report.checks.append(Check("proof", False, str(e)))
    else:
        report.checks.append(Check("proof", False, "not checked: no issuer key"))
    report.checks.append(_check_validity(credential, now or datetime.now(UTC)))
    return report
