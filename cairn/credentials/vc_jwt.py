"""VC-JWT (Open Badges 3.0 §8.2): the credential as a JWS-signed JWT, RS256 or ES256.

The 1EdTech validator accepts these two algorithms (not EdDSA), so organisations keep an RSA
and a P-256 key beside their Ed25519 one. Pure functions: no I/O.
"""

import base64
import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

Algorithm = Literal["RS256", "ES256"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256")
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
JsonDoc = dict[str, Any]


class JwtError(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as e:
        raise JwtError(f"not base64url: {e}") from e


def _int_b64(n: int, length: int | None = None) -> str:
    return _b64(n.to_bytes(length or (n.bit_length() + 7) // 8, "big"))


def generate_key(alg: Algorithm) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def algorithm_of(key: PrivateKey | PublicKey) -> Algorithm:
    return "RS256" if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) else "ES256"


def public_jwk(key: PublicKey) -> JsonDoc:
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "alg": "RS256", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
    point = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "x": _int_b64(point.x, 32),
        "y": _int_b64(point.y, 32),
    }


def jwk_thumbprint(jwk: JsonDoc) -> str:
    """RFC 7638: a stable key id."""
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def public_key_from_jwk(jwk: JsonDoc) -> PublicKey:
    try:
        if jwk.get("kty") == "RSA":
            n, e = (int.from_bytes(_unb64(jwk[k]), "big") for k in ("n", "e"))
            return rsa.RSAPublicNumbers(e, n).public_key()
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x, y = (int.from_bytes(_unb64(jwk[k]), "big") for k in ("x", "y"))
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, ValueError) as e:
        raise JwtError(f"unusable JWK: {e}") from e
    raise JwtError(f"unsupported JWK: kty {jwk.get('kty')!r}")


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def encode(credential: JsonDoc, key: PrivateKey, kid: str) -> str:
    """The compact JWS; the credential goes in the `vc` claim, without any embedded proof."""
    vc = {k: v for k, v in credential.items() if k != "proof"}
    alg = algorithm_of(key)
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    issuer = vc.get("issuer")
    claims: JsonDoc = {"iss": issuer.get("id") if isinstance(issuer, dict) else issuer, "jti": vc.get("id")}
    subject = vc.get("credentialSubject")
    if isinstance(subject, dict) and subject.get("id"):
        claims["sub"] = subject["id"]
    for claim, field in (("nbf", "validFrom"), ("exp", "validUntil")):
        if (moment := _epoch(vc.get(field))) is not None:
            claims[claim] = moment
    claims["vc"] = vc
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{_b64(signature)}"


def parse(token: str) -> tuple[JsonDoc, JsonDoc]:
    """Header and claims, unverified."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwtError("a JWT has three dot-separated parts")
    try:
        header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
    except json.JSONDecodeError as e:
        raise JwtError(f"JWT header or payload is not JSON: {e}") from e
    if not isinstance(header, dict) or not isinstance(claims, dict) or not isinstance(claims.get("vc"), dict):
        raise JwtError("the JWT carries no `vc` claim")
    return header, claims


def verify(token: str, key: PublicKey) -> None:
    """Raises JwtError naming what is wrong: the signature, or claims that disagree with the vc."""
    header, claims = parse(token)
    if header.get("alg") != algorithm_of(key):
        raise JwtError(f"alg {header.get('alg')!r} does not fit the issuer's {algorithm_of(key)} key")
    signing_input, _, signature_b64 = token.strip().rpartition(".")
    signature = _unb64(signature_b64)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            if len(signature) != 64:
                raise JwtError("ES256 signature must be 64 bytes")
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as e:
        raise JwtError("signature does not match the token") from e
    vc = claims["vc"]
    issuer = vc.get("issuer")
    if claims.get("iss") != (issuer.get("id") if isinstance(issuer, dict) else issuer):
        raise JwtError("iss differs from the credential's issuer")
    if claims.get("jti") != vc.get("id"):
        raise JwtError("jti differs from the credential's id")
    if claims.get("nbf") != _epoch(vc.get("validFrom")):
        raise JwtError("nbf differs from the credential's validFrom")
