"""The volunteer's journey in a real browser: from the claim email actually received over SMTP
to a downloaded, verified badge; the share page turning to "revoked"; "my badges" by email."""

import json
import re
import time

import httpx
import pytest
from selenium.webdriver.common.by import By

from cairn.credentials.baking import unbake
from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, shift, wait_for_mail, wait_until

pytestmark = pytest.mark.browser


def wait_for_file(folder, pattern: str, timeout: float = 20):
    """The downloaded file once chromium has finished writing it: no longer a .crdownload, not
    empty, and the same size on two looks in a row (it may create the name before the bytes)."""
    deadline = time.monotonic() + timeout
    last_size = -1
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            size = found[0].stat().st_size
            if size > 0 and size == last_size:
                return found[0]
            last_size = size
        time.sleep(0.1)
    raise AssertionError(f"no {pattern} downloaded into {folder}")


def test_claim_download_share_then_revoked(system, browser):
    client = organisation(system, "Riverside Food Bank", "riverside-browser")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    events = [shift(f"dana-{day}", day, 5, email="dana@example.org") for day in (1, 2)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    mail = wait_for_mail(system.mail_dir, len(read_mailbox(system.mail_dir)) + 1)[-1]

    driver = browser.driver
    driver.get(claim_link(mail))
    assert driver.find_element(By.ID, "badge-name").text == "Pantry volunteer: 10 hours"
    assert "10 hours (10 needed)" in driver.find_element(By.CLASS_NAME, "evidence").text
    badge_image = driver.find_element(By.CSS_SELECTOR, ".badge img")
    assert badge_image.get_attribute("alt") == "Pantry volunteer: 10 hours badge"
    assert driver.execute_script("return arguments[0].naturalWidth", badge_image) > 0, "the image loads"
    browser.screenshot("claim-page")

    driver.find_element(By.ID, "download").click()
    downloaded = json.loads(wait_for_file(browser.downloads, "badge-*.json").read_text())
    driver.find_element(By.ID, "download-png").click()
    baked = wait_for_file(browser.downloads, "badge-*.png").read_bytes()
    assert unbake(baked) == downloaded
    assert httpx.post(f"{system.public_url}/v1/verify", json=downloaded).json()["valid"]

    browser.follow(By.ID, "share")
    assert driver.find_element(By.ID, "verdict").text.startswith("✓ Verified")
    og_title = driver.find_element(By.CSS_SELECTOR, 'meta[property="og:title"]').get_attribute("content")
    assert og_title == "Pantry volunteer: 10 hours, issued by Riverside Food Bank"
    browser.screenshot("share-page-valid")

    uuid = downloaded["id"].removeprefix("urn:uuid:")
    assert client.post(f"/v1/credentials/{uuid}/revoke", json={"reason": "entered twice"}).status_code == 200
    driver.refresh()
    assert driver.find_element(By.ID, "verdict").text.startswith("✗ Revoked")
    assert "status: revoked" in driver.find_element(By.ID, "checks").get_attribute("textContent")
    browser.screenshot("share-page-revoked")


def test_my_badges_by_email_shows_badges_and_progress(system, browser):
    client = organisation(system, "Northside Makers", "northside-browser")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    assert (
        client.post(
            "/v1/badge-classes",
            json=ten_hours_badge(
                id="twenty", name="Pantry: 20 hours", criteria={"kind": "total_hours", "at_least": 20}
            ),
        ).status_code
        == 201
    )
    events = [shift(f"eli-{day}", day, 4, email="eli@example.org") for day in (1, 2, 3)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    wait_for_mail(system.mail_dir, len(read_mailbox(system.mail_dir)) + 1)  # the 10-hour badge
    wait_until(
        lambda: client.get("/v1/recipients/eli@example.org/progress").status_code,
        lambda status: status == 200,
        "eli's progress never appeared",
    )

    driver = browser.driver
    driver.get(f"{system.public_url}/my-badges")
    driver.find_element(By.ID, "email").send_keys("Eli@Example.org")
    mails_before = len(read_mailbox(system.mail_dir))
    browser.follow(By.ID, "send-link")
    assert "Check your email" in driver.find_element(By.TAG_NAME, "h1").text
    mail = wait_for_mail(system.mail_dir, mails_before + 1)[-1]
    assert mail["Subject"] == "Your link to see your badges"
    link = re.search(r"(http://\S+/my-badges/\S+)", mail.get_body(("plain",)).get_content()).group(1)

    driver.get(link)
    earned = driver.find_elements(By.CLASS_NAME, "earned-badge")
    assert [e.text.split("\n")[0].strip() for e in earned] == ["Pantry volunteer: 10 hours"]
    bar = driver.find_element(By.CSS_SELECTOR, ".next-badge .progress")
    assert (bar.get_attribute("aria-valuenow"), bar.get_attribute("aria-valuemax")) == ("12.0", "20.0")
    fill = driver.find_element(By.CSS_SELECTOR, ".next-badge .progress-fill")
    assert fill.size["width"] == pytest.approx(bar.size["width"] * 0.6, abs=2)
    browser.screenshot("my-badges")
