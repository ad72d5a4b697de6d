"""The badge builder's pages on the real gateway app over the fakes: the form's output is the
API's model (errors next to their field), the preview lists the engine's dry run and publishes
nothing, Publish makes a version, and an edit shows what changed."""

import re

import pytest
from fastapi.testclient import TestClient

from cairn.ports import Store
from cairn.settings import Settings
from cairn.usecases.intake import accept_events
from schemas.badge_class import BadgeClass
from services.gateway.app import create_app
from services.gateway.dependencies import Limits, get_limits, get_publisher, get_settings, get_store
from services.gateway.rate_limits import RateLimiter
from tests.service.conftest import Riverside
from tests.service.fakes import FakePublisher
from tests.service.flow import shift


@pytest.fixture
async def client(store: Store, publisher: FakePublisher, riverside: Riverside) -> TestClient:
    events = [
        shift("a1", "ann@example.org", 0, 6, name="Ann"),
        shift("a2", "ann@example.org", 3, 5, name="Ann"),
        shift("b1", "bo@example.org", 1, 4, name="Bo"),
    ]
    await accept_events(store, publisher, riverside.org, events)
    app = create_app(Settings(public_url="http://cairn.test"))
    limits = Limits(*(RateLimiter(per_minute=6000, burst=1000) for _ in range(3)))
    app.dependency_overrides.update(
        {
            get_store: lambda: store,
            get_publisher: lambda: publisher,
            get_settings: lambda: Settings(public_url="http://cairn.test"),
            get_limits: lambda: limits,
        }
    )
    client = TestClient(app, follow_redirects=False)
    assert client.post("/dashboard/sign-in", data={"api_key": riverside.api_key}).status_code == 303
    return client


def token(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


FORM = {
    "name": "Pantry regular",
    "id": "pantry-regular",
    "description": "Regular at the pantry.",
    "criteria_narrative": "Ten hours of shifts within 90 days.",
    "r0_shape": "hours",
    "r0_amount": "10",
    "r0_within_days": "90",
    "r0_kind": "volunteer_shift",
}


async def test_build_preview_publish_and_edit(
    client: TestClient, publisher: FakePublisher, store: Store
) -> None:
    page = client.get("/dashboard/badges/new")
    assert page.status_code == 200 and 'id="badge-form"' in page.text
    form = {**FORM, "token": token(page.text)}

    live = client.post("/dashboard/badges/wording", data=form).json()
    assert live == {"wording": "10 hours of shifts within 90 days.", "errors": {}}
    wrong = client.post("/dashboard/badges/wording", data={**form, "r0_amount": "ten", "id": "Bad Id"}).json()
    assert set(wrong["errors"]) == {"r0_amount", "id"} and wrong["wording"] is None

    refused = client.post("/dashboard/badges/build", data={**form, "r0_amount": "-1"})
    assert refused.status_code == 422
    assert re.search(r'id="error-r0_amount"[^>]*>[^<]*greater than 0', refused.text)

    previewed = client.post("/dashboard/badges/build", data={**form, "action": "preview"})
    assert previewed.status_code == 200
    assert re.findall(r'<li class="qualifier"><strong>([^<]+)</strong>', previewed.text) == ["Ann"]
    assert "10 hours of shifts within 90 days." in previewed.text
    assert "total_hours" in previewed.text, "the advanced box shows the language the form wrote"
    assert not publisher.of(BadgeClass)
    digest = re.search(r'name="previewed" value="([^"]+)"', previewed.text).group(1)

    changed = client.post(
        "/dashboard/badges/build", data={**form, "r0_amount": "4", "previewed": digest, "action": "publish"}
    )
    assert changed.status_code == 200 and "changed since its preview" in changed.text
    assert not publisher.of(BadgeClass), "what was not previewed is not published"

    done = client.post("/dashboard/badges/build", data={**form, "previewed": digest, "action": "publish"})
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/dashboard/badges/pantry-regular?published=1",
    )
    [published] = publisher.of(BadgeClass)
    assert published.criteria.model_dump(exclude_none=True) == {
        "kind": "total_hours",
        "at_least": 10.0,
        "within_days": 90,
        "filter": {"kind": "volunteer_shift"},
    }
    assert "Published version 1." in client.get(done.headers["location"]).text

    edit = client.get("/dashboard/badges/pantry-regular/edit")
    assert 'value="pantry-regular" size="30" pattern="[a-z0-9][a-z0-9-]*" readonly' in edit.text
    assert 'id="r0_amount" name="r0_amount" value="10"' in edit.text
    again = client.post(
        "/dashboard/badges/build",
        data={**form, "editing": "pantry-regular", "r0_amount": "4", "expires": "365", "action": "preview"},
    )
    assert re.findall(r'<li class="qualifier"><strong>([^<]+)</strong>', again.text) == ["Ann", "Bo"]
    assert 'class="change"><td>expires after days' in again.text and "+at_least: 4.0" in again.text

    # a new badge may not take an existing id
    taken = client.post("/dashboard/badges/build", data={**form, "action": "preview"})
    assert taken.status_code == 422 and "a badge with this id exists" in taken.text


async def test_the_advanced_box_and_nested_criteria(client: TestClient) -> None:
    form = {**FORM, "token": token(client.get("/dashboard/badges/new").text), "use_yaml": "1"}
    bad = client.post("/dashboard/badges/wording", data={**form, "criteria_yaml": "kind: streak\nweeks: 1"})
    assert bad.json()["errors"]["criteria_yaml"].startswith(
        "streak.weeks: Input should be greater than or equal"
    )
    nested = """kind: any
of:
  - kind: streak
    weeks: 2
  - {kind: holds_badge, badge: ten-hours}
  - kind: all
    of:
      - {kind: count, at_least: 2}
      - {kind: total_hours, at_least: 10}
"""
    good = client.post("/dashboard/badges/wording", data={**form, "criteria_yaml": nested}).json()
    assert good["wording"] == (
        "Any of: activity in each of 2 consecutive weeks, holds the badge “Pantry volunteer: 10 hours” "
        "or (2 activities and 10 hours of activity)."
    )
    page = client.post("/dashboard/badges/build", data={**form, "criteria_yaml": nested, "action": "preview"})
    assert re.findall(r'<li class="qualifier"><strong>([^<]+)</strong>', page.text) == ["Ann"]


async def test_the_coordinator_picks_the_drawn_images_picture_and_shape(
    client: TestClient, publisher: FakePublisher
) -> None:
    page = client.get("/dashboard/badges/new")
    assert '<option value="book" >book</option>' in page.text.replace("  ", " ")
    form = {**FORM, "token": token(page.text), "glyph": "book", "image_shape": "shield"}
    previewed = client.post("/dashboard/badges/build", data={**form, "action": "preview"})
    assert '<option value="book" selected>book</option>' in previewed.text
    digest = re.search(r'name="previewed" value="([^"]+)"', previewed.text).group(1)
    client.post("/dashboard/badges/build", data={**form, "previewed": digest, "action": "publish"})
    [published] = publisher.of(BadgeClass)
    assert (published.glyph, published.shape) == ("book", "shield")
    edit = client.get("/dashboard/badges/pantry-regular/edit")
    assert '<option value="shield" selected>shield</option>' in edit.text
    wrong = client.post("/dashboard/badges/build", data={**form, "glyph": "dragon", "action": "preview"})
    assert wrong.status_code == 422 and 'id="error-glyph"' in wrong.text
