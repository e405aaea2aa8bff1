"""Browser test kit (load with `pytest_plugins = ["browser"]`): the staff console served on a
free local port and driven by Selenium in Debian's headless Chromium.

`scripts/setup` installs `chromium` and `chromium-driver`; a missing browser fails the test
with what to install, never skips it. `screenshot` saves a page into docs/screenshots/ (the
README shows them): written when missing, rewritten with UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from bot.web.staff.accounts import make_hash

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORDS = {"ana": "admin password 1", "sam": "staff password 2", "nia": "navigator pass 3"}
STAFF_USERS = ",".join(f"{name}:{role}:{make_hash(PASSWORDS[name])}" for name, role in
                       (("ana", "admin"), ("sam", "staff"), ("nia", "navigator")))
WAIT_SECONDS = 15


def _binary(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run ./scripts/setup as root, or "
                    "apt-get install chromium chromium-driver", pytrace=False)
    return found


@pytest.fixture(scope="session")
def chrome() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,900", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(_binary("chromedriver")))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chrome: WebDriver) -> Iterator[WebDriver]:
    """The shared Chromium, signed out and at a blank page for each test."""
    chrome.delete_all_cookies()
    yield chrome
    chrome.delete_all_cookies()  # still on the test's site: its cookies go (every port's)
    chrome.get("about:blank")


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve a Flask app on a free local port in a thread; returns its base URL."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.shutdown()


def wait_for(driver: WebDriver, css: str, timeout: float = WAIT_SECONDS):
    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_until(driver: WebDriver, check: Callable[[WebDriver], object],
               timeout: float = WAIT_SECONDS) -> object:
    return WebDriverWait(driver, timeout).until(check)


def sign_in(driver: WebDriver, base: str, name: str = "ana") -> None:
    driver.get(f"{base}/staff/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[name])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, "form.signout")


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the page as docs/screenshots/<name>.png (kept unless UPDATE_SCREENSHOTS=1)."""
    path = SCREENSHOTS / f"{name}.png"
    if os.environ.get("UPDATE_SCREENSHOTS") or not path.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, max(900, min(int(height), 6000)))
        driver.save_screenshot(str(path))
        driver.set_window_size(1280, 900)
    return path
