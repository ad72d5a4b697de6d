"""The resend use case without Kafka or a database: each resend asks for the next claim
generation on its own command record, and a withdrawn credential gets none."""

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from cairn.usecases.resends import NotResendable, request_resend
from schemas.awards import ClaimEmailResendRequested

KEY = "b" * 64


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[BaseModel] = []

    async def publish(self, record: BaseModel) -> None:
        self.published.append(record)

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        self.published.extend(records)


class NotificationsOnly:
    """The one store question a resend asks: which generation was last emailed."""

    def __init__(self, generation: int | None) -> None:
        self.generation = generation

    async def notification(self, credential_id: str) -> SimpleNamespace | None:
        return None if self.generation is None else SimpleNamespace(generation=self.generation)


def credential(status: str = "active") -> SimpleNamespace:
    return SimpleNamespace(id="urn:uuid:c1", org_id="org-1", recipient_key=KEY, status=status)


@pytest.mark.parametrize(("emailed", "expected"), [(None, 1), (0, 1), (3, 4)])
def test_a_resend_asks_for_the_next_generation(emailed, expected):
    publisher = RecordingPublisher()
    generation = asyncio.run(request_resend(NotificationsOnly(emailed), publisher, credential()))  # type: ignore[arg-type]
    assert generation == expected
    assert publisher.published == [
        ClaimEmailResendRequested(
            credential_id="urn:uuid:c1", org_id="org-1", recipient_key=KEY, claim_generation=expected
        )
    ]


@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_a_withdrawn_credential_gets_no_resend(status):
    publisher = RecordingPublisher()
    with pytest.raises(NotResendable, match=status):
        asyncio.run(request_resend(NotificationsOnly(0), publisher, credential(status)))  # type: ignore[arg-type]
    assert publisher.published == []
