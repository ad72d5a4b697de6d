"""Signed Open Badges credentials per second on one core, per suite, against raw Ed25519.

Each credential is built the way the signer builds it (its own id, recipient and time, so no
cache can answer for it) and signed; the raw baseline signs 64-byte messages with the same key
in the same run. Prints one JSON line per suite, then the ratios to raw Ed25519. With --javascript it also
times Digital Bazaar's JavaScript stack signing the same credential with eddsa-rdfc-2022
(tests/interop/js; `make test` installs it).

    .venv/bin/python bench/sign.py [--credentials 2000] [--javascript]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials import proofs
from cairn.credentials.builder import IssuerProfile, build_credential, iso
from cairn.credentials.multikey import did_key, did_key_verification_method
from cairn.credentials.status_list import status_entries
from cairn.settings import REPO_ROOT
from cairn.terminal_progress import progress_bar
from schemas.awards import AwardGranted, Evidence
from schemas.badge_class import BadgeClass, TotalHours

START = datetime(2026, 11, 28, 12, tzinfo=UTC)
BADGE = BadgeClass(
    id="pantry-10",
    org_id="org-1",
    version=1,
    name="Pantry volunteer: 10 hours",
    description="Ten hours at the pantry.",
    criteria_narrative="Log at least 10 hours of pantry shifts.",
    criteria=TotalHours(at_least=10),
)


def unsigned_credential(key: Ed25519PrivateKey, n: int) -> dict:
    award = AwardGranted(
        award_id=str(uuid.uuid4()),
        org_id="org-1",
        badge_class_id=BADGE.id,
        badge_class_version=1,
        recipient_key=f"{n + 1:064x}",
        occurrence=1,
        earned_at=START,
        evidence=[Evidence(measure="hours", achieved=10 + n % 7, required=10)],
    )
    return build_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        award=award,
        badge=BADGE,
        issuer=IssuerProfile(
            id=did_key(key.public_key()),
            name="Riverside Food Bank",
            url="https://riverside.example.org",
            email="hello@riverside.example.org",
        ),
        org_slug="riverside",
        recipient_email=f"volunteer{n}@example.org",
        recipient_salt=uuid.uuid4().hex,
        public_url="https://cairn.example",
        issued_at=START + timedelta(seconds=n),
        status=status_entries("https://cairn.example", "riverside", n + 1),
    )


def rate(label: str, count: int, work: Callable[[int], object]) -> float:
    work(-1)  # warm-up: loads the contexts once, as a running signer has
    started = time.perf_counter()
    for n in range(count):
        work(n)
        if n % 50 == 49 or n == count - 1:
            progress_bar(label, n + 1, count)
    return count / (time.perf_counter() - started)


def javascript_rate(key: Ed25519PrivateKey, credential: dict, count: int) -> float:
    sys.path.insert(0, str(REPO_ROOT))  # the interop test knows how to talk to the JS stack
    from tests.interop.test_digital_bazaar import JS, request_for

    with tempfile.NamedTemporaryFile("w", suffix=".json") as request:
        json.dump({**request_for(credential, key), "created": iso(START)}, request)
        request.flush()
        print("javascript-eddsa-rdfc-2022 (node) …", file=sys.stderr)
        done = subprocess.run(
            ["node", str(JS / "interop.mjs"), "bench", request.name, str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout)["per_second"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--credentials", type=int, default=2000)
    parser.add_argument("--javascript", action="store_true", help="also time the JavaScript stack")
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    method = did_key_verification_method(key.public_key())
    documents = [unsigned_credential(key, n) for n in range(-1, args.credentials)]

    def signer(suite: proofs.Suite) -> Callable[[int], object]:
        def sign_one(n: int) -> object:
            created = iso(START + timedelta(seconds=n))
            return proofs.sign(documents[n + 1], key, proofs.ProofOptions(suite, method, created))

        return sign_one

    raw_messages = [uuid.uuid4().bytes * 4 for _ in range(args.credentials * 5 + 1)]
    results = {"raw-ed25519": rate("raw-ed25519", args.credentials * 5, lambda n: key.sign(raw_messages[n]))}
    for suite in proofs.SUITES:
        results[suite] = rate(suite, args.credentials, signer(suite))
    if args.javascript:
        results["javascript-eddsa-rdfc-2022"] = javascript_rate(key, documents[0], args.credentials)
    for suite, per_second in results.items():
        print(json.dumps({"suite": suite, "per_second": round(per_second, 1)}))
    raw = results["raw-ed25519"]
    print(
        json.dumps(
            {
                "ratios_to_raw_ed25519": {
                    s: round(v / raw, 4) for s, v in results.items() if s != "raw-ed25519"
                }
            }
        )
    )


if __name__ == "__main__":
    main()
