"""Headless Debian chromium driven by chromedriver (selenium), with a fresh profile per test,
downloads kept in a folder of the test's, and screenshots saved under test-output/screenshots."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from cairn.settings import REPO_ROOT

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"


def is_gone(element: WebElement) -> bool:
    """True once the element has left the document. Chromium says so either as a stale element
    or, mid-navigation, as an inspector error that the node "does not belong to the document"."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in str(e):
            return True
        raise
    return False


class Browser:
    def __init__(self, driver: webdriver.Chrome, downloads: Path, name: str) -> None:
        self.driver, self.downloads, self.name = driver, downloads, name
        self.shots = 0

    def follow(self, by: str, value: str) -> None:
        """Clicks what the locator finds, which loads a new page, and waits until the old page is
        gone. Found afresh on each try: a loaded chromium can report the node it just found as
        no longer in the document, and the click then has not happened."""
        tries = 6  # after a window resize (a screenshot) chromium may re-lay the page out for a while
        for attempt in range(tries):
            old_page = self.driver.find_element(By.TAG_NAME, "html")
            try:
                self.driver.find_element(by, value).click()
                break
            except StaleElementReferenceException:
                if attempt == tries - 1:
                    raise
            except WebDriverException as e:
                if attempt == tries - 1 or "does not belong to the document" not in str(e):
                    raise
            time.sleep(0.25 * (attempt + 1))
        WebDriverWait(self.driver, 15).until(lambda _: is_gone(old_page))

    def screenshot(self, label: str) -> Path:
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{label}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(800, min(int(height) + 40, 3000)))
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Browser]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,900",
    ]:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield Browser(driver, downloads, request.node.name)
    finally:
        driver.quit()
