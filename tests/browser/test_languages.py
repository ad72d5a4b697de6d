"""Spanish for a volunteer who reads Spanish (issue 13), end to end on the running system: the
event says `language: es`, the claim email that arrives over SMTP is Spanish and says so, and
both it and the claim page read on a 390 px phone without sideways scrolling (screenshots
test-output/screenshots/claim-email-es.png and claim-page-es.png); switching to English on the
page is remembered for the volunteer."""

import re

import pytest
from selenium.webdriver.common.by import By

from devtools.smtp_sink import read_mailbox
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, shift, wait_for_mail, wait_until

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def at_phone_width(driver) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def no_sideways_scrolling(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def phone_screenshot(driver, name: str) -> None:
    """The whole page at phone width, as one image."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**PHONE, "height": int(height)})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))
    at_phone_width(driver)


def test_the_spanish_claim_email_and_page_on_a_phone(system, browser, tmp_path):
    client = organisation(system, "Banco de Alimentos del Río", "rio-languages")
    assert client.patch("/v1/org", json={"language": "es_ES"}).status_code == 422, "BCP 47 only"
    assert client.patch("/v1/org", json={"language": "es"}).json()["language"] == "es"
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    events = [shift(f"lucia-{day}", day, 5, email="lucia.fernandez-garcia@example.org") for day in (1, 2)]
    for event in events:
        event["volunteer"] |= {"name": "Lucía", "language": "es-ES"}
    before = len(read_mailbox(system.mail_dir))
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    mail = wait_for_mail(system.mail_dir, before + 1)[-1]

    assert mail["Content-Language"] == "es"
    assert mail["Subject"] == "Has conseguido una insignia: Pantry volunteer: 10 hours"
    html = mail.get_body(("html",)).get_content()
    assert '<html lang="es">' in html

    driver = browser.driver
    at_phone_width(driver)
    (tmp_path / "claim-email-es.html").write_text(html, encoding="utf-8")
    driver.get((tmp_path / "claim-email-es.html").as_uri())
    assert driver.find_element(By.LINK_TEXT, "Recoge tu insignia").is_displayed()
    assert no_sideways_scrolling(driver), "the long claim link wraps"
    phone_screenshot(driver, "claim-email-es.png")

    driver.get(claim_link(mail))
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Has conseguido una insignia"
    assert driver.find_element(By.ID, "badge-name").text == "Pantry volunteer: 10 hours"
    issued = driver.find_element(By.CLASS_NAME, "badge").text
    assert re.search(r"Emitida por Banco de Alimentos del Río el \d+ de \w+ de 20\d\d", issued)
    assert no_sideways_scrolling(driver), "the share link and dates wrap"
    assert "(se necesitaban 10), conseguido el" in driver.find_element(By.CLASS_NAME, "evidence").text
    phone_screenshot(driver, "claim-page-es.png")

    browser.follow(By.ID, "lang-en")
    assert driver.find_element(By.TAG_NAME, "h1").text == "You earned a badge"
    export = wait_until(
        lambda: client.get("/v1/recipients/lucia.fernandez-garcia@example.org/export").json(),
        lambda body: body["contact"]["language"] == "en",
        "the switch remembered for the volunteer",
    )
    assert export["contact"]["name"] == "Lucía"
