"""Issuer signing keys: kept sealed by the keyring, none ever deleted, so an organisation's DID
document can list every key it has signed with."""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from cairn.adapters.store.organisations import issuer_key_row
from cairn.credentials import vc_jwt


class IssuerKeyTables(StoreBase):
    async def rotate_issuer_key(self, org_id: str) -> str:
        """A new active Ed25519 key (and new JWT keys on their next use); earlier keys stay,
        inactive, so the DID document keeps them and earlier credentials still verify."""
        async with self._session.begin() as s:
            await s.execute(update(t.IssuerKey).where(t.IssuerKey.org_id == org_id).values(active=False))
            row = issuer_key_row(org_id, self.keyring.mint_ed25519(org_id), now())
            s.add(row)
        return row.public_multibase

    async def issuer_public_keys(self, org_id: str) -> list[str]:
        """Every Ed25519 key the organisation has signed with, oldest first (for its DID document)."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.IssuerKey.public_multibase)
                .where(t.IssuerKey.org_id == org_id, t.IssuerKey.algorithm == "Ed25519")
                .order_by(t.IssuerKey.id)
            )
            return list(rows.all())

    async def issuer_jwks(self, org_id: str) -> list[dict[str, Any]]:
        """Every public JWK the organisation has signed VC-JWTs with, oldest first."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.IssuerKey.public_jwk)
                .where(t.IssuerKey.org_id == org_id, t.IssuerKey.algorithm != "Ed25519")
                .order_by(t.IssuerKey.id)
            )
            return [jwk for jwk in rows.all() if jwk]

    async def jwt_key(self, org_id: str, alg: vc_jwt.Algorithm) -> tuple[vc_jwt.PrivateKey, str]:
        """The active RS256 or ES256 key and its thumbprint, made on first use."""
        async with self._session.begin() as s:
            row = await s.scalar(
                select(t.IssuerKey)
                .where(
                    t.IssuerKey.org_id == org_id, t.IssuerKey.algorithm == alg, t.IssuerKey.active.is_(True)
                )
                .order_by(t.IssuerKey.id.desc())
            )
            if row is None:
                key, sealed = self.keyring.mint_jwt_key(org_id, alg)
                s.add(issuer_key_row(org_id, sealed, now()))
                return key, sealed.public_multibase
        return self.keyring.unseal_jwt_key(org_id, row.secret_sealed), row.public_multibase

    async def issuer_key(self, org_id: str) -> Ed25519PrivateKey:
        """The organisation's active signing key, decrypted only in memory."""
        async with self._session() as s:
            row = await s.scalar(
                select(t.IssuerKey)
                .where(
                    t.IssuerKey.org_id == org_id,
                    t.IssuerKey.algorithm == "Ed25519",
                    t.IssuerKey.active.is_(True),
                )
                .order_by(t.IssuerKey.id.desc())
            )
        if row is None:
            raise LookupError(f"organisation {org_id} has no active issuer key")
        return self.keyring.unseal_ed25519(org_id, row.secret_sealed)
