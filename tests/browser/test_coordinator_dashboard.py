"""A coordinator in a real browser: sign in with an API key, upload a rota CSV (preview, then
post), watch volunteers' progress bars, see the issued badges with their email status."""

import re
import time

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import organisation

pytestmark = pytest.mark.browser

ROTA = """Shift ID,Volunteer Name,E-mail,Shift Date,Time In,Time Out,Programme
D-1,Gus Moreno,gus@example.org,02/11/2026,09:00,15:00,Pantry
D-2,Gus Moreno,gus@example.org,09/11/2026,09:00,13:00,Pantry
D-3,Hana Sato,hana@example.org,02/11/2026,10:00,13:30,Pantry
"""


def wait_until(driver, check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        driver.refresh()
        if check():
            return
        time.sleep(0.5)
    raise AssertionError("the page never showed what was expected")


def test_sign_in_upload_progress_and_issued(system, browser, tmp_path):
    client = organisation(system, "Riverside Food Bank", "riverside-dash")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    driver = browser.driver

    driver.get(f"{system.public_url}/dashboard")
    assert driver.current_url.endswith("/dashboard/sign-in"), "pages need a session"
    driver.find_element(By.ID, "api_key").send_keys("cairn_not-a-key")
    browser.follow(driver.find_element(By.ID, "sign-in"))
    assert "unknown" in driver.find_element(By.ID, "error").text
    driver.find_element(By.ID, "api_key").send_keys(api_key)
    browser.follow(driver.find_element(By.ID, "sign-in"))
    assert driver.find_element(By.CLASS_NAME, "badge-class-name").text == "Pantry volunteer: 10 hours"
    cookie = driver.get_cookie("cairn_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and api_key not in cookie["value"]
    browser.screenshot("badges")

    rota = tmp_path / "rota.csv"
    rota.write_text(ROTA)
    browser.follow(driver.find_element(By.ID, "nav-upload"))
    driver.find_element(By.ID, "file").send_keys(str(rota))
    browser.follow(driver.find_element(By.ID, "preview"))
    assert driver.find_element(By.ID, "summary").text.startswith(
        "3 rows read as volunteer shifts; 0 with errors"
    )
    assert len(driver.find_elements(By.CSS_SELECTOR, "#preview-rows tbody tr")) == 3
    browser.screenshot("csv-preview")
    assert client.get("/v1/credentials").json() == [], "a preview posts nothing"
    browser.follow(driver.find_element(By.ID, "confirm"))
    assert driver.find_element(By.ID, "posted").text.startswith("Posted 3 events")

    browser.follow(driver.find_element(By.ID, "nav-volunteers"))

    def bars() -> dict[str, str]:
        found = {}
        for row in driver.find_elements(By.CLASS_NAME, "volunteer"):
            bar = row.find_elements(By.CSS_SELECTOR, ".progress")
            if bar:
                found[row.find_element(By.TAG_NAME, "strong").text] = bar[0].get_attribute("aria-valuenow")
        return found

    wait_until(driver, lambda: bars() == {"Gus Moreno": "10.0", "Hana Sato": "3.5"})
    browser.screenshot("volunteers-progress")

    browser.follow(driver.find_element(By.ID, "nav-credentials"))
    wait_until(driver, lambda: "sent" in [e.text for e in driver.find_elements(By.CSS_SELECTOR, "td.email")])
    [row] = driver.find_elements(By.CLASS_NAME, "credential")
    assert "Gus Moreno" in row.text and "active" in row.text
    browser.screenshot("issued")
    browser.follow(row.find_element(By.CSS_SELECTOR, "button.revoke"))
    assert driver.find_element(By.CSS_SELECTOR, "td.status").text.startswith("revoked")
    [listed] = client.get("/v1/credentials").json()
    assert listed["status"] == "revoked" and listed["status_reason"] == "revoked from the dashboard"
    browser.screenshot("issued-revoked")

    # A read-only key signs in but cannot revoke; a revoked key's session ends.
    reader = client.post("/v1/api-keys", json={"name": "viewer", "scopes": ["read"]}).json()
    browser.follow(driver.find_element(By.CSS_SELECTOR, "nav form button"))
    driver.find_element(By.ID, "api_key").send_keys(reader["key"])
    browser.follow(driver.find_element(By.ID, "sign-in"))
    driver.get(f"{system.public_url}/dashboard/upload")
    assert "lacks the scope 'events:write'" in driver.page_source
    assert client.delete(f"/v1/api-keys/{reader['id']}").status_code == 204
    driver.get(f"{system.public_url}/dashboard")
    assert driver.current_url.endswith("/dashboard/sign-in")
    assert re.search(r"Coordinator sign-in", driver.page_source)
