"""Revoking, suspending and unsuspending credentials, and the signed status lists that say so."""

from collections.abc import Callable
from typing import Any, Literal

from cairn.credentials.builder import iso
from cairn.credentials.status_list import Purpose, empty_bits, list_credential, list_url
from cairn.domain.records import CredentialRecord, Org
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from cairn.usecases.issuing import org_signer
from schemas.webhooks import CredentialChanged

Action = Literal["revoke", "suspend", "unsuspend"]
# action -> (statuses it may start from, the status it leads to, the bits it sets)
TRANSITIONS: dict[Action, tuple[set[str], str, dict[str, bool]]] = {
    "revoke": ({"active", "suspended"}, "revoked", {"revocation": True, "suspension": False}),
    "suspend": ({"active"}, "suspended", {"suspension": True}),
    "unsuspend": ({"suspended"}, "active", {"suspension": False}),
}


class StatusChangeError(ValueError):
    """The change does not apply to the credential's current status (e.g. unsuspend an active one)."""


async def _list_signer(
    store: Store, org: Org, public_url: str, clock: Clock
) -> Callable[[Purpose, bytes], dict[str, Any]]:
    signer = await org_signer(store, org, public_url)

    def sign(purpose: Purpose, bits: bytes) -> dict[str, Any]:
        now = iso(clock.now())
        return signer.sign(
            list_credential(list_url(public_url, org.slug, purpose), signer.did, purpose, bits, now), now
        )

    return sign


async def status_list_document(
    store: Store, org: Org, purpose: Purpose, public_url: str, clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any]:
    """The signed list; an organisation that never changed a status gets an all-clear one."""
    row = await store.status_list(org.id, purpose)
    if row is None:
        sign = await _list_signer(store, org, public_url, clock)
        await store.save_status_list(org.id, purpose, bytes(empty_bits()), sign(purpose, bytes(empty_bits())))
        row = await store.status_list(org.id, purpose)
        assert row is not None
    return row.document


async def announce_claimed(
    publisher: Publisher, credential: CredentialRecord, clock: Clock = SYSTEM_CLOCK
) -> None:
    """The first opening of a claim link: cairn.credential-changes.v1, for the webhooks."""
    await publisher.publish(
        CredentialChanged(
            credential_id=credential.id, org_id=credential.org_id, change="claimed", at=clock.now()
        )
    )


async def change_status(
    store: Store,
    org: Org,
    credential_id: str,
    action: Action,
    reason: str | None,
    public_url: str,
    clock: Clock = SYSTEM_CLOCK,
    publisher: Publisher | None = None,
) -> CredentialRecord:
    """Moves the credential to its new status and re-signs the lists whose bits flip, in one
    transaction of the store's; then, given a publisher, announces a revocation or suspension
    (cairn.credential-changes.v1, for the organisation's webhooks)."""
    credential = await store.credential(credential_id)
    if credential is None or credential.org_id != org.id:
        raise LookupError(f"credential {credential_id} not found")
    allowed_from, new_status, flips = TRANSITIONS[action]
    if credential.status not in allowed_from:
        raise StatusChangeError(f"cannot {action} a credential that is {credential.status}")
    sign = await _list_signer(store, org, public_url, clock)
    changed = await store.change_status(org.id, credential_id, new_status, reason, flips, sign)
    if publisher is not None and new_status in {"revoked", "suspended"}:
        await publisher.publish(
            CredentialChanged(credential_id=credential_id, org_id=org.id, change=new_status, at=clock.now())
        )
    return changed
