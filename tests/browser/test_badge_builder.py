"""A coordinator builds a badge in the dashboard (form, plain words as they type), previews who
would receive it now — exactly whom the criteria engine says, from the activity posted — then
publishes, and those volunteers (only they) get one claim email each. Then an edit: the change
and the new preview are shown, a second version is published, and the first stays listed with
its holders."""

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from cairn.domain.criteria import awards_for_history
from devtools.smtp_sink import read_mailbox
from schemas.activity import ActivityVoidedIn, VolunteerShiftIn, activity_from_api
from schemas.badge_class import BadgeClass
from tests.browser.conftest import SCREENSHOTS
from tests.e2e.volunteering import organisation, wait_for_mail

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC).replace(microsecond=0)
PEOPLE = {
    "ann@example.org": "Ann Achebe",
    "bo@example.org": "Bo Lindqvist",
    "cy@example.org": "Cy Moreau",
    "di@example.org": "Di Park",
    "ed@example.org": "Ed Nakamura",
}


def shift(event_id: str, email: str, days_ago: int, hours: float, program: str = "pantry") -> dict:
    start = NOW - timedelta(days=days_ago, hours=hours + 1)
    return {
        "id": event_id,
        "type": "volunteer_shift",
        "volunteer": {"email": email, "name": PEOPLE[email]},
        "started_at": start.isoformat(),
        "hours": hours,
        "program": program,
    }


EVENTS = [
    shift("ann-1", "ann@example.org", 40, 6),
    shift("ann-2", "ann@example.org", 10, 5),  # Ann: 11 pantry hours within 90 days
    shift("bo-1", "bo@example.org", 20, 8),
    shift("bo-2", "bo@example.org", 5, 4, program="kitchen"),  # Bo: 8 pantry hours, 4 kitchen
    shift("cy-1", "cy@example.org", 3, 12),
    {
        "id": "cy-void",
        "type": "activity_voided",
        "volunteer": {"email": "cy@example.org"},
        "voids": "cy-1",
        "reason": "logged at the wrong site",
    },  # Cy: none
    shift("di-1", "di@example.org", 2, 10),  # Di: 10
    shift("ed-1", "ed@example.org", 150, 5),
    shift("ed-2", "ed@example.org", 10, 5),  # Ed: 10, but not within any 90 days
]
CRITERIA = {
    "kind": "total_hours",
    "at_least": 10,
    "within_days": 90,
    "filter": {"kind": "volunteer_shift", "program": "pantry"},
}


def engine_says(criteria: dict) -> list[str]:
    """Whom the criteria engine awards, over the events as posted (the reference)."""
    badge = BadgeClass(
        id="pantry-regular", name="n", description="d", criteria_narrative="c", criteria=criteria,
        org_id="o", version=1,
    )  # fmt: skip
    histories: dict[str, list] = {}
    for body in EVENTS:
        email = body["volunteer"]["email"]
        key = hashlib.sha256(email.encode()).hexdigest()
        parsed = (ActivityVoidedIn if body["type"] == "activity_voided" else VolunteerShiftIn).model_validate(
            body
        )
        histories.setdefault(email, []).append((body["id"], activity_from_api(parsed, key)))
    return sorted(
        PEOPLE[email] for email, events in histories.items() if awards_for_history(events, [badge], "0" * 64)
    )


def fill(driver, field: str, text: str) -> None:
    element = driver.find_element(By.ID, field)
    element.clear()
    element.send_keys(text)


def preview_until_projected(browser, people: int, timeout: float = 30) -> None:
    """Previews until the activity log holds everyone's history (the projector is a consumer)."""
    deadline = time.monotonic() + timeout
    while True:
        browser.follow(By.ID, "preview")
        count = browser.driver.find_element(By.ID, "preview-count").text
        if f"(of {people} with activity" in count or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def qualifiers(driver) -> list[str]:
    return [
        li.find_element(By.TAG_NAME, "strong").text for li in driver.find_elements(By.CLASS_NAME, "qualifier")
    ]


def phone_shot(browser, label: str) -> None:
    driver = browser.driver
    driver.set_window_size(390, 844)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(390, max(844, min(int(height) + 40, 4000)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{browser.name}-phone-{label}.png"))
    driver.set_window_size(1280, 900)


def test_build_preview_publish_then_edit(system, browser):
    client = organisation(system, "Riverside Food Bank", "riverside-builder")
    assert client.post("/v1/events", json={"events": EVENTS}).status_code == 202
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    driver = browser.driver
    mails_before = len(read_mailbox(system.mail_dir))

    driver.get(f"{system.public_url}/dashboard/sign-in")
    driver.find_element(By.ID, "api_key").send_keys(api_key)
    browser.follow(By.ID, "sign-in")
    browser.follow(By.ID, "nav-build-badge")
    fill(driver, "name", "Pantry regular")
    fill(driver, "id", "pantry-regular")
    fill(driver, "description", "Gave ten hours at the pantry within three months.")
    fill(driver, "criteria_narrative", "Log 10 hours of pantry shifts within 90 days.")
    Select(driver.find_element(By.ID, "r0_shape")).select_by_value("hours")
    fill(driver, "r0_amount", "10")
    fill(driver, "r0_within_days", "90")
    Select(driver.find_element(By.ID, "r0_kind")).select_by_value("volunteer_shift")
    fill(driver, "r0_program", "pantry")
    assert not driver.find_element(By.ID, "r0_sessions").is_displayed(), "fields of other shapes hide"
    wording = driver.find_element(By.ID, "wording")
    WebDriverWait(driver, 10).until(lambda _: wording.text == "10 hours of pantry shifts within 90 days.")
    browser.screenshot("form-live-wording")

    preview_until_projected(browser, people=len(PEOPLE))
    expected = engine_says(CRITERIA)
    assert expected == ["Ann Achebe", "Di Park"]
    assert qualifiers(driver) == expected
    assert driver.find_element(By.ID, "preview-count").text.startswith("2 volunteers would receive it now")
    assert client.get("/v1/badge-classes").json() == [], "a preview publishes nothing"
    browser.screenshot("preview")
    phone_shot(browser, "preview")

    browser.follow(By.ID, "publish")
    assert driver.find_element(By.ID, "notice").text == "Published version 1."
    [published] = client.get("/v1/badge-classes").json()
    assert {k: v for k, v in published["criteria"].items() if v is not None} | {
        "filter": {k: v for k, v in published["criteria"]["filter"].items() if v}
    } == CRITERIA
    mails = wait_for_mail(system.mail_dir, mails_before + 2)
    time.sleep(3)  # no third email comes
    mails = read_mailbox(system.mail_dir)[mails_before:]
    assert sorted(m["To"] for m in mails) == ["Ann Achebe <ann@example.org>", "Di Park <di@example.org>"]
    browser.screenshot("published")

    # Editing makes version 2: the change and the new preview (Bo now qualifies; Ann and Di hold it)
    browser.follow(By.ID, "edit-badge")
    fill(driver, "r0_amount", "8")
    browser.follow(By.ID, "preview")
    assert (
        qualifiers(driver)
        == ["Bo Lindqvist"]
        == [p for p in engine_says({**CRITERIA, "at_least": 8}) if p not in expected]
    )
    assert "2 already hold it" in driver.find_element(By.ID, "preview-count").text
    [change] = driver.find_elements(By.CLASS_NAME, "change")
    assert "10 hours of pantry shifts" in change.text and "8 hours of pantry shifts" in change.text
    browser.screenshot("edit-changes-preview")
    browser.follow(By.ID, "publish")
    rows = {
        r.get_attribute("id"): r.find_element(By.CLASS_NAME, "holders").text
        for r in driver.find_elements(By.CLASS_NAME, "version")
    }
    assert rows["version-1"] == "2: Ann Achebe, Di Park"
    assert rows["version-2"].startswith(("0", "1"))
    wait_for_mail(system.mail_dir, mails_before + 3)
    driver.refresh()
    assert driver.find_element(By.CSS_SELECTOR, "#version-2 .holders").text == "1: Bo Lindqvist"
    browser.screenshot("versions")
