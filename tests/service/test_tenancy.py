"""Tenancy across organisations: another organisation's key gets 404 for this round's routes
that take an id (badge class for direct awards, webhook endpoint, delivery, replay), and nothing
it asked for changes."""

from cairn.usecases.provisioning import create_organisation
from cairn.usecases.webhooks import fan_out
from schemas.admin import OrgCreateIn
from schemas.awards import AwardGranted
from tests.service.fakes import FakePublisher
from tests.service.flow import PUBLIC_URL
from tests.service.test_webhooks import _endpoint


async def test_another_organisations_key_is_answered_404_and_changes_nothing(
    gateway, store, publisher: FakePublisher, clock, riverside, issued
):
    _, hill_key = await create_organisation(
        store, OrgCreateIn(name="Hillside Shelter", slug="hillside", email="hi@hillside.example")
    )
    hill = {"Authorization": f"Bearer {hill_key}"}
    endpoint_id, _ = await _endpoint(store, riverside)
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    awards_before = len(publisher.of(AwardGranted))
    deliveries_before = await store.webhook_deliveries(riverside.org.id)

    body = {"recipients": [{"email": "x@example.org"}], "narrative": "Hi", "idempotency_key": "t-1"}
    assert (
        gateway.post(f"/v1/badge-classes/{riverside.badge_id}/awards", json=body, headers=hill).status_code
        == 404
    )
    assert gateway.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=hill).status_code == 404
    assert gateway.get(f"/v1/webhooks/deliveries/{delivery.id}", headers=hill).status_code == 404
    assert gateway.post(f"/v1/webhooks/deliveries/{delivery.id}/replay", headers=hill).status_code == 404
    assert gateway.delete(f"/v1/webhooks/{endpoint_id}", headers=hill).status_code == 404
    assert gateway.get("/v1/webhooks", headers=hill).json() == []

    assert len(publisher.of(AwardGranted)) == awards_before
    assert await store.webhook_deliveries(riverside.org.id) == deliveries_before
    endpoint = await store.webhook_endpoint(endpoint_id)
    assert endpoint is not None and endpoint.disabled_at is None
    # the owner still reaches all of it
    own = {"Authorization": f"Bearer {riverside.api_key}"}
    assert gateway.get(f"/v1/webhooks/deliveries/{delivery.id}", headers=own).status_code == 200
