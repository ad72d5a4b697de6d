"""A credential's life on the running system: did:web issuer, baked images, the verify API and
page, key rotation, suspension and revocation through the signed status lists."""

import json
import re
from urllib.parse import unquote

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials.multikey import did_key
from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, shift, wait_for_mail
from tests.wallet_simulator import did_auth_presentation

pytestmark = pytest.mark.e2e


def earn_badge(system, client, email: str, mails_before: int) -> tuple[str, dict]:
    """Posts 10 hours for `email`; returns the credential's uuid and document."""
    events = [shift(f"{email}-{day}", day, 5, email=email) for day in (1, 2)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    mail = wait_for_mail(system.mail_dir, mails_before + 1)[-1]
    page = httpx.get(claim_link(mail))
    json_link = re.search(r'id="download" href="/credentials/([0-9a-f-]+)\.json"', page.text)
    uuid = json_link.group(1)
    return uuid, httpx.get(f"{system.public_url}/credentials/{uuid}.json").json()


def cairn_verify(system, tmp_path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    host = system.public_url.removeprefix("http://")
    return system.cairn("verify", "--allow-host", host, str(path), check=False).stdout.strip()


def verdict(system, uuid: str) -> str:
    page = httpx.get(f"{system.public_url}/credentials/{uuid}")
    assert page.status_code == 200
    return re.search(r'id="verdict" class="verdict verdict-(\w+)"', page.text).group(1)


def test_issue_rotate_suspend_revoke(system, tmp_path):
    client = organisation(
        system, "Riverside Food Bank", "riverside", "--email", "hello@riverside.example.org"
    )
    other = organisation(system, "Elsewhere Trust", "elsewhere")
    assert client.post("/v1/badge-classes", json=ten_hours_badge(tags=["pantry"])).status_code == 201
    public = system.public_url

    first_uuid, first = earn_badge(system, client, "ana@example.org", 0)
    did = first["issuer"]["id"]
    assert did == f"did:web:{public.removeprefix('http://').replace(':', '%3A')}:orgs:riverside"
    assert first["issuer"]["email"] == "hello@riverside.example.org"
    assert first["proof"]["verificationMethod"].startswith(did + "#z6Mk")

    # Anyone can verify: the CLI (json and both baked images), the API and the public page.
    png = httpx.get(f"{public}/credentials/{first_uuid}.png").content
    svg = httpx.get(f"{public}/credentials/{first_uuid}.svg").content
    assert png.startswith(b"\x89PNG") and b"openbadgecredential" in png
    for name, content in [("a.json", json.dumps(first).encode()), ("a.png", png), ("a.svg", svg)]:
        assert cairn_verify(system, tmp_path, name, content) == f"{tmp_path / name}: valid"
    offline = system.cairn("verify", str(tmp_path / "a.json"), check=False)
    assert offline.returncode == 1 and "is not an allowed host" in offline.stdout, "nothing fetched unasked"
    result = httpx.post(f"{public}/v1/verify", json=first).json()
    assert result["valid"] and [c["check"] for c in result["checks"]] == [
        "shape",
        "issuer key",
        "proof",
        "status",
        "validity",
    ]
    assert verdict(system, first_uuid) == "valid"

    status_url = first["credentialStatus"][0]["statusListCredential"]
    listed = httpx.get(status_url)
    assert listed.headers["cache-control"] == "public, max-age=60"
    assert httpx.get(status_url, headers={"If-None-Match": listed.headers["etag"]}).status_code == 304

    # Rotation: new credentials use the new key; the first still verifies.
    rotated = system.cairn("keys", "rotate", "--org", "riverside").stdout
    new_key = re.search(r"new signing key (z6Mk\w+)", rotated).group(1)
    did_document = httpx.get(f"{public}/orgs/riverside/did.json").json()
    assert len(did_document["verificationMethod"]) == 2 and did_document["assertionMethod"][1].endswith(
        new_key
    )
    second_uuid, second = earn_badge(system, client, "ben@example.org", 1)
    assert second["proof"]["verificationMethod"] == f"{did}#{new_key}"
    assert httpx.post(f"{public}/v1/verify", json=first).json()["valid"]
    assert httpx.post(f"{public}/v1/verify", json=second).json()["valid"]

    # The same credential as a VC-JWT, for verifiers that take JWTs: its keys join the DID document.
    jwts = {
        alg: httpx.get(f"{public}/credentials/{first_uuid}.jwt", params={"alg": alg})
        for alg in ("RS256", "ES256")
    }
    for alg, response in jwts.items():
        assert response.headers["content-type"] == "application/jwt"
        assert cairn_verify(system, tmp_path, f"a-{alg}.jwt", response.content).endswith(": valid")
    jwk_types = [
        m["publicKeyJwk"]["kty"]
        for m in httpx.get(f"{public}/orgs/riverside/did.json").json()["verificationMethod"]
        if m["type"] == "JsonWebKey"
    ]
    assert jwk_types == ["RSA", "EC"]

    # Another organisation's key cannot touch it, and changes nothing.
    assert other.post(f"/v1/credentials/{first_uuid}/revoke", json={}).status_code == 404
    assert verdict(system, first_uuid) == "valid"

    # Suspend, unsuspend, revoke: the lists change, verification follows.
    suspended = client.post(f"/v1/credentials/{first_uuid}/suspend", json={"reason": "checking hours"})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert cairn_verify(system, tmp_path, "a.json", json.dumps(first).encode()).endswith("status: suspended")
    assert verdict(system, first_uuid) == "suspended"
    assert verdict(system, second_uuid) == "valid", "only the suspended credential's bit is set"
    assert client.post(f"/v1/credentials/{first_uuid}/unsuspend", json={}).json()["status"] == "active"
    assert verdict(system, first_uuid) == "valid"
    revoked = client.post(f"/v1/credentials/{first_uuid}/revoke", json={"reason": "awarded by mistake"})
    assert revoked.json() == {**revoked.json(), "status": "revoked", "status_reason": "awarded by mistake"}
    assert cairn_verify(system, tmp_path, "a.png", png).endswith("status: revoked")
    assert verdict(system, first_uuid) == "revoked"
    assert cairn_verify(system, tmp_path, "a-ES256.jwt", jwts["ES256"].content).endswith("status: revoked")
    again = client.post(f"/v1/credentials/{first_uuid}/unsuspend", json={})
    assert again.status_code == 409 and "revoked" in again.json()["detail"]
    statuses = {c["id"]: c["status"] for c in client.get("/v1/credentials").json()}
    assert statuses == {f"urn:uuid:{first_uuid}": "revoked", f"urn:uuid:{second_uuid}": "active"}


def test_verify_api_reports_each_failure(system):
    public = system.public_url
    tampered = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
    result = httpx.post(f"{public}/v1/verify", json=tampered).json()
    assert result["valid"] is False
    failed = {c["check"]: c["reason"] for c in result["checks"] if not c["ok"]}
    assert failed["issuer key"] == "proof names no verificationMethod"
    assert "OpenBadgeCredential" in failed["shape"]
    not_json = httpx.post(f"{public}/v1/verify", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and "invalid JSON" in not_json.text


def test_wallet_gets_the_badge_bound_to_its_did(system):
    client = organisation(system, "Wallet Friends", "wallet-friends")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    mails_before = len(read_mailbox(system.mail_dir))
    uuid, _ = earn_badge(system, client, "cam@example.org", mails_before)
    claim_url = claim_link(read_mailbox(system.mail_dir)[-1])
    page = httpx.get(claim_url).text
    assert 'id="linkedin" href="https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME' in page

    # The claim page's wallet button: a deep link into the Learner Credential Wallet.
    wallet_link = re.search(r'id="wallet" href="([^"]+)"', page).group(1)
    redirect = httpx.get(system.public_url + wallet_link)
    assert redirect.status_code == 303
    location = redirect.headers["location"]
    assert location.startswith("https://lcw.app/request.html?request=")
    offer = json.loads(unquote(location.split("request=", 1)[1]))
    exchange_url = offer["protocols"]["vcapi"]
    assert offer["credentialRequestOrigin"] == system.public_url

    request = httpx.post(exchange_url, json={}).json()["verifiablePresentationRequest"]
    assert request["query"][0]["type"] == "DIDAuthentication"
    wallet_key = Ed25519PrivateKey.generate()
    wrong = did_auth_presentation(wallet_key, "not-the-challenge", request["domain"])
    refused = httpx.post(exchange_url, json={"verifiablePresentation": wrong})
    assert refused.status_code == 400 and "another challenge" in refused.json()["detail"]

    answer = did_auth_presentation(wallet_key, request["challenge"], request["domain"])
    response = httpx.post(exchange_url, json={"verifiablePresentation": answer})
    assert response.status_code == 200, response.text
    [credential] = response.json()["verifiablePresentation"]["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == did_key(wallet_key.public_key())
    assert credential["id"] == f"urn:uuid:{uuid}"
    assert httpx.post(f"{system.public_url}/v1/verify", json=credential).json()["valid"]
    again = httpx.post(exchange_url, json={"verifiablePresentation": answer})
    assert again.status_code == 409, "an exchange hands out its credential once"
