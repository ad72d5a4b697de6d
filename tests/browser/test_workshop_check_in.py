"""Workshop check-in in real browsers: the host opens check-in for session 3 of a series and
shows its QR code; an attendee opens the link in a second browser at phone width and checks in;
the host's list shows them without a reload; the attendance is the third of four sessions, so
the badge is emailed. A link outside its session's window is refused."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from devtools.smtp_sink import read_mailbox
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, SCREENSHOTS
from tests.e2e.volunteering import organisation, wait_for_mail

pytestmark = pytest.mark.browser

THREE_OF_FOUR = {
    "id": "bike-repair",
    "name": "Bike repair: 3 of 4 sessions",
    "description": "Came to three of the four bike repair evenings.",
    "criteria_narrative": "Attend 3 of the 4 sessions.",
    "criteria": {
        "kind": "distinct",
        "field": "session",
        "at_least": 3,
        "of": ["1", "2", "3", "4"],
        "filter": {"series": "bike-repair"},
    },
}


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A second browser, its own profile and cookies, 390 px wide: the attendee's phone."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=390,844"]:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'phone-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(390, 844)
    try:
        yield driver
    finally:
        driver.quit()


def phone_shot(driver: webdriver.Chrome, label: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"test_check_in_through_the_qr_link-phone-{label}.png"))


def open_session(browser, session: str, starts: str | None = None, ends: str | None = None) -> str:
    """Opens check-in from the dashboard; returns the link the page shows under its QR code."""
    driver = browser.driver
    browser.follow(By.ID, "nav-check-in")
    driver.find_element(By.ID, "series").send_keys("bike-repair")
    driver.find_element(By.ID, "session").send_keys(session)
    for field, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None:
            driver.find_element(By.ID, field).clear()
            driver.find_element(By.ID, field).send_keys(value)
    browser.follow(By.ID, "open")
    assert driver.find_element(By.CSS_SELECTOR, "#qr svg"), "a QR code drawn on the server"
    return driver.find_element(By.ID, "check-in-link").get_attribute("href")


def test_check_in_through_the_qr_link(system, browser, phone):
    client = organisation(system, "Fixit Repair Café", "fixit-check-in")
    assert client.post("/v1/badge-classes", json=THREE_OF_FOUR).status_code == 201
    earlier = datetime.now(UTC) - timedelta(days=14)
    for number in ("1", "2"):
        attended = {
            "id": f"bike-{number}-gia",
            "type": "workshop_attendance",
            "attendee": {"email": "gia@example.org", "name": "Gia Rossi"},
            "series": "bike-repair",
            "session": number,
            "attended_at": (earlier + timedelta(days=7 * int(number))).isoformat(),
        }
        assert client.post("/v1/events", json=attended).status_code == 202
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    driver = browser.driver
    driver.get(f"{system.public_url}/dashboard/sign-in")
    driver.find_element(By.ID, "api_key").send_keys(api_key)
    browser.follow(By.ID, "sign-in")

    link = open_session(browser, "3")  # the form's default times: starting about now
    assert link.startswith(f"{system.public_url}/check-in/")
    browser.screenshot("host-qr")
    browser.driver.set_window_size(1280, 900)
    mails_before = len(read_mailbox(system.mail_dir))

    phone.get(link)
    assert phone.execute_script("return window.innerWidth") <= 390
    phone.find_element(By.ID, "name").send_keys("Gia Rossi")
    phone.find_element(By.ID, "email").send_keys("gia@example.org")
    phone_shot(phone, "01-form")
    phone.find_element(By.ID, "check-in").click()
    WebDriverWait(phone, 15).until(lambda d: d.find_elements(By.ID, "checked-in"))
    assert "Your attendance is recorded" in phone.find_element(By.ID, "checked-in").text
    phone_shot(phone, "02-checked-in")

    # the host's page shows Gia without a reload (it polls)
    WebDriverWait(driver, 15).until(
        lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, "tr.check-in td.who")] == ["Gia Rossi"]
    )
    assert driver.find_element(By.ID, "check-in-count").text == "1 checked in"
    browser.screenshot("host-list")

    [mail] = wait_for_mail(system.mail_dir, mails_before + 1)[mails_before:]
    assert mail["Subject"] == "You earned a badge: Bike repair: 3 of 4 sessions"
    assert mail["To"] == "Gia Rossi <gia@example.org>"

    # a session tomorrow: its link is refused today
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = open_session(
        browser, "4", tomorrow.strftime("%Y-%m-%d 18:00"), tomorrow.strftime("%Y-%m-%d 20:00")
    )
    phone.get(later)
    assert "has not opened yet" in phone.find_element(By.ID, "refused").text
    assert phone.find_elements(By.ID, "check-in") == [], "no form to fill"
    phone_shot(phone, "03-refused")
