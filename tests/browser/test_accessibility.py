"""Accessibility in a real browser: axe-core (tests/browser/js, pinned) over every dashboard,
volunteer and public page at phone (390 px) and desktop (1280 px) widths, with no serious or
critical violations; the claim page used by keyboard alone; the public badge page's plain-words
verdict with the organisation's branding. Figures per page go to test-output/axe.json."""

import json
import re

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from cairn.credentials.baking import bake_png, bake_svg, unbake
from cairn.domain.badge_images import badge_png, badge_svg
from cairn.domain.colour import contrast_ratio
from cairn.settings import REPO_ROOT
from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, shift, wait_for_mail, wait_until

pytestmark = pytest.mark.browser
AXE = REPO_ROOT / "tests" / "browser" / "js" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": 390, "desktop": 1280}
BRAND = "#f5c518"  # a light colour: white text on it would fail contrast


def axe(driver) -> list[dict]:
    """axe-core's violations on the loaded page (WCAG 2.x A/AA and best practice rules)."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done(String(e)));"
    )
    assert isinstance(result, list), result
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result
    ]


@pytest.fixture(scope="module")
def journey(system):
    """An organisation (light brand colour, logo) whose volunteer earned a badge: the links to
    every kind of page, gathered once for the module."""
    client = organisation(system, "Riverside Food Bank", "riverside-a11y")
    logo = f"{system.public_url}/orgs/riverside-a11y/badges/ten-hours/image"
    assert client.patch("/v1/org", json={"colour": BRAND, "image_url": logo}).status_code == 200
    assert client.post("/v1/badge-classes", json=ten_hours_badge(glyph="apple")).status_code == 201
    events = [shift(f"ana-{day}", day, 5, email="ana@example.org") for day in (1, 2)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    mail = wait_for_mail(system.mail_dir, len(read_mailbox(system.mail_dir)) + 1)[-1]
    text = mail.get_body(("plain",)).get_content()
    claim = claim_link(mail)
    [credential] = wait_until(lambda: client.get("/v1/credentials").json(), bool, "no credential listed")
    uuid = credential["id"].removeprefix("urn:uuid:")
    return {
        "client": client,
        "api_key": client.headers["Authorization"].removeprefix("Bearer "),
        "claim": claim,
        "uuid": uuid,
        "unsubscribe": re.search(r"(http://\S+/unsubscribe/\S+)", text).group(1),
        "mail": mail,
    }


def test_the_badge_images_are_drawn_for_the_class_and_shown_inline_in_the_email(system, journey):
    """Over real SMTP: the claim email carries the drawn badge (apple, the org's colour) as an
    inline part its HTML names by cid:; the credential's baked PNG and SVG are the same drawing."""
    mail, uuid = journey["mail"], journey["uuid"]
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in mail.get_body(("html",)).get_content()
    drawn = badge_png("Pantry volunteer: 10 hours", BRAND, glyph="apple", key="ten-hours")
    assert image.get_content() == drawn
    document = httpx.get(f"{system.public_url}/credentials/{uuid}.json").json()
    png = httpx.get(f"{system.public_url}/credentials/{uuid}.png").content
    assert png == bake_png(drawn, document) and unbake(png) == document
    svg = httpx.get(f"{system.public_url}/credentials/{uuid}.svg").text
    assert svg == bake_svg(
        badge_svg("Pantry volunteer: 10 hours", BRAND, glyph="apple", key="ten-hours"), document
    )


def sign_in_link(system, email: str) -> str:
    mails = len(read_mailbox(system.mail_dir))
    assert httpx.post(f"{system.public_url}/my-badges", data={"email": email}).status_code == 200
    body = wait_for_mail(system.mail_dir, mails + 1)[-1].get_body(("plain",)).get_content()
    return re.search(r"(http://\S+/my-badges/\S+)", body).group(1)


def test_no_serious_or_critical_axe_violations_on_any_page(system, browser, journey):
    driver, base, uuid = browser.driver, system.public_url, journey["uuid"]
    public = {
        "landing": "/",
        "claim": journey["claim"],
        "claim-missing": "/claim/not-a-token",
        "credential": f"/credentials/{uuid}",
        "my-badges-request": "/my-badges",
        "my-badges": sign_in_link(system, "ana@example.org"),
        "my-badges-expired": "/my-badges/not-a-token",
        "unsubscribe": journey["unsubscribe"],
        "error-404": "/credentials/00000000-0000-0000-0000-000000000000",
    }
    dashboard = {
        "dashboard-sign-in": "/dashboard/sign-in",
        "dashboard-overview": "/dashboard",
        "dashboard-volunteers": "/dashboard/volunteers",
        "dashboard-credentials": "/dashboard/credentials",
        "dashboard-revoke": f"/dashboard/credentials/{uuid}/revoke",
        "dashboard-questions": "/dashboard/questions",
        "dashboard-upload": "/dashboard/upload",
        "dashboard-awards": "/dashboard/awards",
        "dashboard-check-in": "/dashboard/check-in",
        "dashboard-webhooks": "/dashboard/webhooks",
        "dashboard-settings": "/dashboard/settings",
    }
    figures: dict[str, dict[str, list]] = {}

    def check(name: str, url: str) -> None:
        for width_name, width in WIDTHS.items():
            driver.set_window_size(width, 900)
            driver.get(url if url.startswith("http") else base + url)
            figures.setdefault(name, {})[width_name] = axe(driver)

    for name, url in public.items():
        check(name, url)
    driver.get(base + "/my-badges")
    driver.find_element(By.ID, "email").send_keys("ana@example.org")
    browser.follow(By.ID, "send-link")
    figures["my-badges-sent"] = {"desktop": axe(driver)}
    check("dashboard-sign-in", dashboard.pop("dashboard-sign-in"))
    driver.find_element(By.ID, "api_key").send_keys(journey["api_key"])
    browser.follow(By.ID, "sign-in")
    for name, url in dashboard.items():
        check(name, url)
    driver.get(base + "/dashboard/volunteers")
    check(
        "dashboard-volunteer",
        driver.find_element(By.CSS_SELECTOR, "a[href^='/dashboard/volunteers/']").get_attribute("href"),
    )
    driver.get(base + "/dashboard/check-in")
    driver.find_element(By.ID, "series").send_keys("bike-repair")
    driver.find_element(By.ID, "session").send_keys("1")
    browser.follow(By.ID, "open")
    attendee_link = driver.find_element(By.ID, "check-in-link").get_attribute("href")
    check("dashboard-check-in-session", driver.current_url)
    check("check-in", attendee_link)

    out = REPO_ROOT / "test-output" / "axe.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=1))
    serious = {
        f"{page} at {width}": [v for v in found if v["impact"] in ("serious", "critical")]
        for page, widths in figures.items()
        for width, found in widths.items()
    }
    assert {k: v for k, v in serious.items() if v} == {}
    assert len(figures) == 24


def test_the_claim_page_by_keyboard_alone(system, browser, journey):
    """Tab from the top reaches every link and button of the page, each visibly focused."""
    driver = browser.driver
    driver.set_window_size(390, 844)
    driver.get(journey["claim"])
    actions = {
        e.get_attribute("id") or e.get_attribute("href")
        for e in driver.find_elements(By.CSS_SELECTOR, "main a, main button, a.button")
    }
    assert {"download", "download-png", "linkedin", "share"} <= actions
    reached, outlines = set(), set()
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(40):
        focused = driver.switch_to.active_element
        if focused.tag_name in ("a", "button"):
            reached.add(focused.get_attribute("id") or focused.get_attribute("href"))
            outlines.add(focused.value_of_css_property("outline-style"))
        focused.send_keys(Keys.TAB)
    assert actions <= reached, f"not reached by Tab: {actions - reached}"
    assert "none" not in outlines, "every focused control shows its focus"
    for image in driver.find_elements(By.TAG_NAME, "img"):
        assert image.get_attribute("alt"), "every image has a text alternative"
    browser.screenshot("claim-keyboard-phone")


def test_the_public_badge_page_says_in_plain_words_who_issued_it(system, browser, journey):
    driver = browser.driver
    driver.get(f"{system.public_url}/credentials/{journey['uuid']}")
    verdict = driver.find_element(By.ID, "verdict").text
    assert "Issued by Riverside Food Bank, not changed since, not revoked" in verdict, verdict
    details = driver.find_element(By.CSS_SELECTOR, "details#technical")
    assert details.get_attribute("open") is None, "the technical checks are folded away"
    assert "proof" in details.get_attribute("textContent")
    logo = driver.find_element(By.CSS_SELECTOR, "header.org img")
    assert logo.get_attribute("alt") == "Riverside Food Bank"
    button_colours = driver.execute_script(
        "const s = getComputedStyle(document.querySelector('header.org'));"
        "return [s.backgroundColor, s.color];"
    )
    background, ink = (
        "#" + "".join(f"{int(c):02x}" for c in re.findall(r"\d+", colour)[:3]) for colour in button_colours
    )
    assert background == BRAND and contrast_ratio(background, ink) >= 4.5, "branded, and readable on it"
    for width_name, width in WIDTHS.items():
        driver.set_window_size(width, 900)
        driver.refresh()
        for date in driver.find_elements(By.CSS_SELECTOR, "time"):
            assert date.size["height"] < 2 * float(date.value_of_css_property("font-size")[:-2]), (
                f"{date.text} breaks across lines at {width_name} width"
            )
        driver.save_screenshot(str(browser_shot(f"public-badge-page-{width_name}")))


def browser_shot(label: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{label}.png"
