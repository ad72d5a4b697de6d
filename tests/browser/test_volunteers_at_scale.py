"""A coordinator searches and pages through 10,000 seeded volunteers in chromium, opens one
volunteer's page (history with a void, a pathway with its parts, by name), and manages the
organisation's settings (an API key shown once); at desktop and phone widths. The gateway runs
in-process over a seeded SQLite store, without Kafka: these pages only read the store."""

import asyncio
import re
import secrets
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from selenium.webdriver.common.by import By

from cairn.adapters.store import open_store
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import free_port
from tests.integration.volunteers_at_scale import PEOPLE, Seeded, app_over, name_of, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[tuple[str, Seeded]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('scale') / 'cairn.db'}"
    master = secrets.token_bytes(32)

    async def seeded() -> Seeded:
        store = open_store(url, master)
        await store.create_schema()
        try:
            return await seed(store)
        finally:
            await store.close()

    org = asyncio.run(seeded())
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            app_over(open_store(url, master), public_url), port=port, lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield public_url, org
    server.should_exit = True
    thread.join(10)


def phone_shot(driver, name: str) -> None:
    """A screenshot at phone width (390 px), the whole page."""
    driver.set_window_size(390, 844)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(390, max(844, min(int(height) + 40, 3000)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"volunteers-phone-{name}.png"))
    driver.set_window_size(1280, 900)


def shown(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "a.volunteer-link strong")]


def test_search_and_page_through_ten_thousand_volunteers(gateway, browser):
    public_url, org = gateway
    driver = browser.driver
    driver.get(f"{public_url}/dashboard/sign-in")
    driver.find_element(By.ID, "api_key").send_keys(org.api_key)
    browser.follow(By.ID, "sign-in")
    browser.follow(By.ID, "nav-volunteers")
    assert driver.find_element(By.ID, "found").text == f"{PEOPLE:,} volunteers · page 1 of 200"
    natural = sorted((name_of(i) for i in range(PEOPLE)), key=_natural)
    assert shown(driver) == natural[:50]
    browser.screenshot("list-first-page")
    phone_shot(driver, "list")

    browser.follow(By.ID, "next-page")
    assert driver.find_element(By.ID, "page-of").text == "Page 2 of 200"
    assert shown(driver) == natural[50:100]
    browser.follow(By.ID, "last-page")
    assert shown(driver) == natural[-50:]

    search = driver.find_element(By.ID, "q")
    search.clear()
    search.send_keys("volunteer 99")
    browser.follow(By.ID, "search")
    assert driver.find_element(By.ID, "found").text == "11 volunteers matching “volunteer 99” · page 1 of 1"
    assert shown(driver) == ["Volunteer 990"] + [f"Volunteer 99{d}0" for d in range(10)]
    assert not driver.find_elements(By.ID, "next-page")
    browser.screenshot("search")

    search = driver.find_element(By.ID, "q")
    search.clear()
    driver.find_element(By.CSS_SELECTOR, "#sort option[value=closest]").click()
    browser.follow(By.ID, "search")
    assert "sort=closest" in driver.current_url and len(shown(driver)) == 50
    browser.screenshot("sorted-closest")

    driver.get(f"{public_url}/dashboard/volunteers/{org.sample}")
    assert driver.find_element(By.ID, "volunteer-name").text == name_of(5)
    items = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".progress-item .item-name")]
    parts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".progress-item .part-name")]
    assert (items, parts) == (["Pantry lead"], ["Pantry: 10 hours", "Six shifts"])
    [voided] = driver.find_elements(By.CSS_SELECTOR, "tr.activity.voided")
    assert "voided: “entered twice”" in voided.text
    browser.screenshot("volunteer-page")
    phone_shot(driver, "volunteer-page")


def test_settings_create_a_key_shown_once(gateway, browser):
    public_url, org = gateway
    driver = browser.driver
    driver.get(f"{public_url}/dashboard/sign-in")
    driver.find_element(By.ID, "api_key").send_keys(org.api_key)
    browser.follow(By.ID, "sign-in")
    browser.follow(By.ID, "nav-settings")
    driver.find_element(By.ID, "key_name").send_keys("rota sync")
    driver.find_element(By.CSS_SELECTOR, "input[name=scopes][value='events:write']").click()
    browser.follow(By.ID, "create-key")
    key = driver.find_element(By.ID, "new-key-value").text
    assert key.startswith("cairn_")
    browser.screenshot("settings-new-key")
    phone_shot(driver, "settings")
    driver.get(f"{public_url}/dashboard/settings")
    assert key not in driver.page_source and "rota sync" in driver.page_source


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]
