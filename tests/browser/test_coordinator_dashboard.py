"""A coordinator in a real browser: sign in with an API key, upload a rota CSV (preview, then
post), watch volunteers' progress bars, see the issued badges with their email status, resend
and revoke (after confirming, with a reason); a read-only key sees no buttons."""

import re
import time

import httpx
import pytest
from selenium.webdriver.common.by import By

from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_mail

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
    browser.follow(By.ID, "sign-in")
    assert "unknown" in driver.find_element(By.ID, "error").text
    driver.find_element(By.ID, "api_key").send_keys(api_key)
    browser.follow(By.ID, "sign-in")
    assert driver.find_element(By.CLASS_NAME, "badge-class-name").text == "Pantry volunteer: 10 hours"
    cookie = driver.get_cookie("cairn_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and api_key not in cookie["value"]
    browser.screenshot("badges")

    rota = tmp_path / "rota.csv"
    rota.write_text(ROTA)
    browser.follow(By.ID, "nav-upload")
    driver.find_element(By.ID, "file").send_keys(str(rota))
    browser.follow(By.ID, "preview")
    assert driver.find_element(By.ID, "summary").text.startswith(
        "3 rows read as volunteer shifts; 0 with errors"
    )
    assert len(driver.find_elements(By.CSS_SELECTOR, "#preview-rows tbody tr")) == 3
    browser.screenshot("csv-preview")
    assert client.get("/v1/credentials").json() == [], "a preview posts nothing"
    browser.follow(By.ID, "confirm")
    assert driver.find_element(By.ID, "posted").text.startswith("Posted 3 events")

    browser.follow(By.ID, "nav-volunteers")

    def bars() -> dict[str, str]:
        found = {}
        for row in driver.find_elements(By.CLASS_NAME, "volunteer"):
            bar = row.find_elements(By.CSS_SELECTOR, ".progress")
            if bar:
                found[row.find_element(By.TAG_NAME, "strong").text] = bar[0].get_attribute("aria-valuenow")
        return found

    wait_until(driver, lambda: bars() == {"Gus Moreno": "10.0", "Hana Sato": "3.5"})
    browser.screenshot("volunteers-progress")

    browser.follow(By.ID, "nav-credentials")
    wait_until(driver, lambda: "sent" in [e.text for e in driver.find_elements(By.CSS_SELECTOR, "td.email")])
    [row] = driver.find_elements(By.CLASS_NAME, "credential")
    assert "Gus Moreno" in row.text and "active" in row.text
    browser.screenshot("issued")
    # Resend says so on the next page, and a new claim email goes out.
    mails = len(read_mailbox(system.mail_dir))
    browser.follow(By.CSS_SELECTOR, "tr.credential button.resend")
    notice = driver.find_element(By.ID, "notice").text
    assert notice.startswith("Claim email sent again to Gus Moreno for “Pantry volunteer: 10 hours”"), notice
    assert "gus@example.org" in wait_for_mail(system.mail_dir, mails + 1)[-1]["To"]
    browser.screenshot("resent")

    # Revoke asks first, and for a reason; cancelling changes nothing.
    browser.follow(By.CSS_SELECTOR, "tr.credential button.revoke")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Revoke this badge?"
    assert driver.find_element(By.ID, "revoke-earner").text == "Gus Moreno"
    browser.screenshot("revoke-confirm")
    browser.follow(By.ID, "cancel-revoke")
    assert driver.find_element(By.CSS_SELECTOR, "td.status").text == "active"
    browser.follow(By.CSS_SELECTOR, "tr.credential button.revoke")
    confirm_url = driver.current_url

    # Without a reason the server refuses too (not only the browser's `required`).
    session = as_page(driver)
    token = driver.find_element(By.NAME, "token").get_attribute("value")
    action = driver.find_element(By.CSS_SELECTOR, "form[action$='/revoke']").get_attribute("action")
    blank = httpx.post(action, data={"token": token, "reason": "  "}, headers=session)
    assert blank.status_code == 422 and 'id="revoke-error"' in blank.text and "say why" in blank.text
    assert client.get("/v1/credentials").json()[0]["status"] == "active"

    driver.get(confirm_url)
    driver.find_element(By.ID, "reason").send_keys("awarded by mistake")
    browser.follow(By.ID, "confirm-revoke")
    assert driver.find_element(By.ID, "notice").text == "Revoked “Pantry volunteer: 10 hours” of Gus Moreno."
    assert driver.find_element(By.CSS_SELECTOR, "td.status").text.startswith("revoked")
    [listed] = client.get("/v1/credentials").json()
    assert listed["status"] == "revoked" and listed["status_reason"] == "awarded by mistake"
    browser.screenshot("issued-revoked")

    # A read-only key signs in but sees no buttons it could not use, and the server refuses them;
    # a revoked key's session ends.
    reader = client.post("/v1/api-keys", json={"name": "viewer", "scopes": ["read"]}).json()
    browser.follow(By.CSS_SELECTOR, "nav form button")
    driver.find_element(By.ID, "api_key").send_keys(reader["key"])
    browser.follow(By.ID, "sign-in")
    assert "(view only)" in driver.find_element(By.ID, "signed-in-key").text
    assert not driver.find_elements(By.ID, "nav-upload")
    hana = {**shift("hana-extra", 16, 7), "volunteer": {"email": "hana@example.org", "name": "Hana Sato"}}
    assert client.post("/v1/events", json=hana).status_code == 202
    driver.get(f"{system.public_url}/dashboard/credentials")
    wait_until(driver, lambda: len(driver.find_elements(By.CLASS_NAME, "credential")) == 2)
    active = next(c["id"] for c in client.get("/v1/credentials").json() if c["status"] == "active")
    active = active.removeprefix("urn:uuid:")
    assert not driver.find_elements(By.CSS_SELECTOR, "tr.credential form"), "no action buttons"
    browser.screenshot("issued-read-only")
    session = as_page(driver)
    for action in ["resend", "suspend", "revoke"]:
        refused = httpx.post(
            f"{system.public_url}/dashboard/credentials/{active}/{action}",
            data={"token": "x", "reason": "r"},
            headers=session,
        )
        assert refused.status_code == 403 and "<h1" in refused.text and "lacks the scope" in refused.text
    driver.get(f"{system.public_url}/dashboard/credentials/{active}/revoke")
    assert "lacks the scope 'credentials:write'" in driver.page_source
    driver.get(f"{system.public_url}/dashboard/upload")
    assert "lacks the scope 'events:write'" in driver.page_source
    assert client.delete(f"/v1/api-keys/{reader['id']}").status_code == 204
    driver.get(f"{system.public_url}/dashboard")
    assert driver.current_url.endswith("/dashboard/sign-in")
    assert re.search(r"Coordinator sign-in", driver.page_source)


def as_page(driver) -> dict[str, str]:
    """Headers for a request outside the browser, in its dashboard session, asking for HTML."""
    return {"Accept": "text/html", "Cookie": f"cairn_session={driver.get_cookie('cairn_session')['value']}"}
