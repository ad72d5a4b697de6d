"""Which API-key scopes exist, and checking a requested set against them (the policy, no storage)."""

from collections.abc import Iterable

from cairn.domain.records import SCOPES


def checked_scopes(requested: Iterable[str]) -> frozenset[str]:
    """The requested scopes, or ValueError naming any that do not exist."""
    scopes = frozenset(requested)
    unknown = scopes - SCOPES.keys()
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    return scopes


def all_scopes() -> frozenset[str]:
    """What an organisation's first key may do: everything."""
    return frozenset(SCOPES)
