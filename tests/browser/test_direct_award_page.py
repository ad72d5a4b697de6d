"""A coordinator awards a badge from the dashboard: a pasted list with a wrong row is refused row
by row with nothing awarded; fixed, it awards three people, who get three credentials and three
emails; sending the same form again issues nothing more."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from devtools.smtp_sink import read_mailbox
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
