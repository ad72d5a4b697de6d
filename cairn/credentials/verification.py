"""Verification of a signed credential, each check reported separately with its reason.

The same code serves `cairn verify`, POST /v1/verify and the public credential page. It is
pure: the DID documents and status lists it needs (`did_documents_needed`, `status_lists_needed`)
are fetched by the caller (cairn/verifying.py) and handed in as `Material`.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cairn.credentials import proofs, vc_jwt
from cairn.credentials.contexts import VC_V2
from cairn.credentials.did_web import DidError, assertion_jwk, assertion_key, document_url
from cairn.credentials.multikey import public_key_from_multibase
from cairn.credentials.status_list import StatusListError, status_of

JsonDoc = dict[str, Any]
Presented = JsonDoc | str  # a credential with an embedded proof, or a VC-JWT


class ResolutionError(ValueError):
    pass


@dataclass
class Material:
    """Documents fetched for verification, by URL; a string is why one could not be fetched."""

    documents: dict[str, JsonDoc | str] = field(default_factory=dict)

    def get(self, url: str) -> JsonDoc:
        found = self.documents.get(url)
        if found is None:
            raise ResolutionError(f"{url} was not fetched")
        if isinstance(found, str):
            raise ResolutionError(found)
        return found


def resolve_did_key(verification_method: str) -> Ed25519PublicKey:
    """did:key:z6Mk…#z6Mk… → the Ed25519 public key it encodes."""
    did, _, fragment = verification_method.partition("#")
    multibase = did.removeprefix("did:key:")
    if fragment and fragment != multibase:
        raise ResolutionError("did:key fragment does not match the key")
    try:
        return public_key_from_multibase(multibase)
    except ValueError as e:
        raise ResolutionError(str(e)) from e


def resolve_key(verification_method: str, material: Material) -> Ed25519PublicKey:
    did = verification_method.partition("#")[0]
    if did.startswith("did:key:"):
        return resolve_did_key(verification_method)
    if did.startswith("did:web:"):
        try:
            return assertion_key(material.get(document_url(did)), verification_method)
        except DidError as e:
            raise ResolutionError(str(e)) from e
    raise ResolutionError(f"cannot resolve {did!r}: only did:key and did:web are supported")


def _status_entries(credential: JsonDoc) -> list[JsonDoc]:
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status] if status else []
    return [e for e in entries if isinstance(e, dict)]


def _method_of(document: JsonDoc) -> str | None:
    proof = document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    return method if isinstance(method, str) else None


def _jwt_parts(token: str) -> tuple[JsonDoc, JsonDoc] | None:
    try:
        header, claims = vc_jwt.parse(token)
    except vc_jwt.JwtError:
        return None
    return header, claims["vc"]


def credential_of(presented: Presented) -> JsonDoc:
    if isinstance(presented, str):
        parts = _jwt_parts(presented)
        return parts[1] if parts else {}
    return presented


def did_documents_needed(presented: Presented) -> list[str]:
    if isinstance(presented, str):
        parts = _jwt_parts(presented)
        method = parts[0].get("kid") if parts else None
    else:
        method = _method_of(presented)
    if isinstance(method, str) and method.startswith("did:web:"):
        try:
            return [document_url(method.partition("#")[0])]
        except DidError:
            return []
    return []


def status_lists_needed(presented: Presented) -> list[str]:
    entries = _status_entries(credential_of(presented))
    return [e["statusListCredential"] for e in entries if "statusListCredential" in e]


Outcome = Literal["valid", "valid_status_not_checked", "not_valid"]


@dataclass
class Check:
    name: str
    ok: bool
    reason: str = ""
    checked: bool = True  # False: could not be made (a status list not fetched); a warning


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Every check that could be made passed (a status left unchecked is a warning)."""
        return all(c.ok or not c.checked for c in self.checks)

    @property
    def status_checked(self) -> bool:
        return all(c.checked for c in self.checks)

    @property
    def outcome(self) -> Outcome:
        if not self.valid:
            return "not_valid"
        return "valid" if self.status_checked else "valid_status_not_checked"

    @property
    def reasons(self) -> list[str]:
        """Why it is not valid: the failed checks."""
        return [f"{c.name}: {c.reason}" for c in self.checks if not c.ok and c.checked]

    @property
    def warnings(self) -> list[str]:
        """What could not be checked, and why."""
        return [f"{c.name}: {c.reason}" for c in self.checks if not c.checked]


def _issuer_id(credential: JsonDoc) -> str | None:
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


def _check_key_and_proof(document: JsonDoc, material: Material, report: "Report") -> None:
    method = _method_of(document)
    key = None
    if method is None:
        report.checks.append(Check("issuer key", False, "proof names no verificationMethod"))
    elif method.partition("#")[0] != _issuer_id(document):
        report.checks.append(Check("issuer key", False, "verificationMethod is not the issuer's"))
    else:
        try:
            key = resolve_key(method, material)
            report.checks.append(Check("issuer key", True))
        except ResolutionError as e:
            report.checks.append(Check("issuer key", False, str(e)))
    if key is not None:
        try:
            proofs.verify(document, key)
            report.checks.append(Check("proof", True))
        except proofs.ProofError as e:
            report.checks.append(Check("proof", False, str(e)))
    else:
        report.checks.append(Check("proof", False, "not checked: no issuer key"))


def _check_status(credential: JsonDoc, material: Material, now: datetime) -> Check:
    """Failed if any status list says revoked or suspended (or cannot be trusted); not checked
    if one could not be fetched and none of the others failed."""
    entries = _status_entries(credential)
    if not entries:
        return Check("status", True, "the credential has no status list")
    not_fetched = []
    for entry in entries:
        if entry.get("type") != "BitstringStatusListEntry":
            return Check("status", False, f"unsupported credentialStatus type {entry.get('type')!r}")
        url = entry.get("statusListCredential", "")
        try:
            status_list = material.get(url)
        except ResolutionError as e:
            not_fetched.append(str(e))
            continue
        list_report = Report()
        _check_key_and_proof(status_list, material, list_report)
        list_report.checks.append(_check_validity(status_list, now))
        if _issuer_id(status_list) != _issuer_id(credential):
            return Check("status", False, "the status list is not signed by the credential's issuer")
        if not list_report.valid:
            return Check("status", False, f"status list {url} is not valid: {'; '.join(list_report.reasons)}")
        try:
            if status_of(entry, status_list):
                purpose = entry.get("statusPurpose")
                return Check(
                    "status",
                    False,
                    {"revocation": "revoked", "suspension": "suspended"}.get(
                        purpose, f"status {purpose} set"
                    ),
                )
        except StatusListError as e:
            return Check("status", False, str(e))
    if not_fetched:
        return Check("status", False, f"not checked: {'; '.join(dict.fromkeys(not_fetched))}", checked=False)
    return Check("status", True)


def _check_jwt(
    token: str, header: JsonDoc, credential: JsonDoc, material: Material, report: "Report"
) -> None:
    kid = header.get("kid")
    if not isinstance(kid, str):
        report.checks.append(Check("issuer key", False, "the JWT header names no kid"))
        report.checks.append(Check("proof", False, "not checked: no issuer key"))
        return
    if kid.partition("#")[0] != _issuer_id(credential):
        report.checks.append(Check("issuer key", False, "kid is not the issuer's"))
        report.checks.append(Check("proof", False, "not checked: no issuer key"))
        return
    try:
        if not kid.startswith("did:web:"):
            raise ResolutionError(f"cannot resolve {kid!r}: VC-JWT keys are resolved through did:web")
        key = vc_jwt.public_key_from_jwk(
            assertion_jwk(material.get(document_url(kid.partition("#")[0])), kid)
        )
        report.checks.append(Check("issuer key", True))
    except (ResolutionError, DidError, vc_jwt.JwtError) as e:
        report.checks.append(Check("issuer key", False, str(e)))
        report.checks.append(Check("proof", False, "not checked: no issuer key"))
        return
    try:
        vc_jwt.verify(token, key)
        report.checks.append(Check("proof", True))
    except vc_jwt.JwtError as e:
        report.checks.append(Check("proof", False, str(e)))


def verify_credential(
    presented: Presented,
    material: Material | None = None,
    now: datetime | None = None,
    require_status: bool = False,
) -> Report:
    """A credential with a Data Integrity proof, or a VC-JWT (compact JWS string).

    A status list that was not fetched leaves the status unchecked, which is reported but does
    not make a genuine credential invalid, unless `require_status`."""
    material = material or Material()
    now = now or datetime.now(UTC)
    report = Report()
    if isinstance(presented, str):
        parts = _jwt_parts(presented)
        if parts is None:
            report.checks.append(
                Check("shape", False, "not a VC-JWT: expected header.payload.signature with a vc claim")
            )
            return report
        header, credential = parts
        report.checks.append(_check_shape(credential))
        _check_jwt(presented, header, credential, material, report)
    else:
        credential = presented
        report.checks.append(_check_shape(credential))
        _check_key_and_proof(credential, material, report)
    status = _check_status(credential, material, now)
    if require_status and not status.checked:
        status = Check("status", False, f"{status.reason} (the status is required)")
    report.checks.append(status)
    report.checks.append(_check_validity(credential, now))
    return report
