"""A coordinator's dashboard in real browsers (one system for both): awarding a badge directly
to a pasted list (row errors first, then three awarded, the same form again issues nothing), and
workshop check-in (the host shows a QR code; an attendee checks in from a second browser at phone
width; the attendance is the third of four sessions, so the badge is emailed; a link outside its
session's window is refused)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from devtools.smtp_sink import read_mailbox
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, SCREENSHOTS
from tests.e2e.volunteering import organisation, wait_for_mail, wait_until_consumed

pytestmark = pytest.mark.browser


MANUAL = {
    "id": "facilitator",
    "name": "Workshop facilitator",
    "description": "Led a repair café workshop.",
    "criteria_narrative": "Awarded by the coordinators to each facilitator.",
    "manual_only": True,
}
WRONG = (
    "Dee Ray, dee@example.org\nEli Ford; not-an-email\nfay@example.org, Fay Wu\nDEE@example.org, Dee again\n"
)
RIGHT = "Dee Ray, dee@example.org\nEli Ford; eli@example.org\nfay@example.org, Fay Wu\n"


def test_award_a_pasted_list_once(system, browser):
    client = organisation(system, "Fixit Repair Café", "fixit-direct")
    assert client.post("/v1/badge-classes", json=MANUAL).status_code == 201
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    driver = browser.driver
    driver.get(f"{system.public_url}/dashboard/sign-in")
    driver.find_element(By.ID, "api_key").send_keys(api_key)
    browser.follow(By.ID, "sign-in")
    browser.follow(By.ID, "nav-awards")
    assert Select(driver.find_element(By.ID, "badge")).first_selected_option.text.startswith(
        "Workshop facilitator"
    )

    driver.find_element(By.ID, "people").send_keys(WRONG)
    driver.find_element(By.ID, "narrative").send_keys("Led the bike repair evenings in spring.")
    browser.follow(By.ID, "award-submit")
    errors = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#award-errors li")]
    assert [e.split(":")[0] for e in errors] == ["Row 2", "Row 4"], errors
    assert "already on row 1" in errors[1]
    browser.screenshot("row-errors")
    assert client.get("/v1/credentials").json() == [], "nothing awarded while a row is wrong"

    mails_before = len(read_mailbox(system.mail_dir))
    people = driver.find_element(By.ID, "people")
    people.clear()
    people.send_keys(RIGHT)
    browser.follow(By.ID, "award-submit")
    assert driver.find_element(By.ID, "awarded").text.startswith("Awarded “Workshop facilitator” to 3 people")
    browser.screenshot("awarded")
    mails = wait_for_mail(system.mail_dir, mails_before + 3)[mails_before:]
    assert sorted(m["To"] for m in mails) == [
        "Dee Ray <dee@example.org>",
        "Eli Ford <eli@example.org>",
        "Fay Wu <fay@example.org>",
    ]

    driver.back()  # the same form, sent again: a double click or a reload
    browser.follow(By.ID, "award-submit")
    assert driver.find_element(By.ID, "awarded").text.startswith("This award was already made")
    wait_until_consumed(system)
    assert len(client.get("/v1/credentials").json()) == 3
    assert len(read_mailbox(system.mail_dir)) == mails_before + 3
    browser.follow(By.ID, "nav-credentials")
    assert len(driver.find_elements(By.CLASS_NAME, "credential")) == 3
    browser.screenshot("issued")


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


def open_session(
    browser, session: str, starts: str | None = None, ends: str | None = None, host_confirms: bool = False
) -> str:
    """Opens check-in from the dashboard; returns the link the page shows under its QR code."""
    driver = browser.driver
    browser.follow(By.ID, "nav-check-in")
    driver.find_element(By.ID, "series").send_keys("bike-repair")
    driver.find_element(By.ID, "session").send_keys(session)
    for field, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None:
            driver.find_element(By.ID, field).clear()
            driver.find_element(By.ID, field).send_keys(value)
    if host_confirms:
        driver.find_element(By.ID, "host_confirms").click()
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

    # "I confirm each check-in": Hal waits for the host's click; then the host removes him (a void)
    confirming = open_session(browser, "4", host_confirms=True)
    phone.delete_all_cookies()
    phone.get(confirming)
    phone.find_element(By.ID, "name").send_keys("Hal Berg")
    phone.find_element(By.ID, "email").send_keys("hal@example.org")
    phone.find_element(By.ID, "check-in").click()
    WebDriverWait(phone, 15).until(lambda d: d.find_elements(By.ID, "checked-in"))
    assert "The host will confirm" in phone.find_element(By.ID, "checked-in").text
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "tr.status-pending"))
    browser.screenshot("host-confirms-pending")
    browser.follow(By.CSS_SELECTOR, "tr.status-pending button.confirm")
    assert driver.find_element(By.CSS_SELECTOR, "tr.check-in td.state").text == "counted"
    browser.follow(By.CSS_SELECTOR, "tr.check-in button.remove")
    assert driver.find_element(By.CSS_SELECTOR, "tr.check-in td.state").text == "removed"
    assert driver.find_element(By.ID, "check-in-count").text == "0 checked in"
    browser.screenshot("host-removed")
