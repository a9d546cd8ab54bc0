"""Headless Chromium for the console's tests: Debian's `chromium` and `chromium-driver`, driven
with Selenium, offline (no downloads, no background traffic), one fresh profile per browser.

`Console` is what a person does on the console (log in, open a page, wait for it, take a
screenshot); `shot` saves a screenshot and fails if it shows a blank page.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


# What a page must never log: an uncaught error, or something the security policy stopped.
FAULTS = ("Uncaught", "Content Security Policy", "Refused to")


def chromium() -> tuple[str, str]:
    """The browser and its driver, or a clean skip when this machine has neither."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("chromium and chromium-driver are not installed (.ci/run installs them)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (the test extra pins it)")
    return binary, driver


def open_browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = chromium()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never fetches a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


# Run in the page: decode a PNG, count its colours and the share of pixels unlike the most
# common one (the background). A blank page has one colour and no such pixels.
_MEASURE = """
const [data, done] = arguments;
const image = new Image();
image.onload = () => {
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const counts = new Map();
  for (let i = 0; i < pixels.length; i += 16) {
    const key = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const total = pixels.length / 16;
  const most = Math.max(...counts.values());
  done({colours: counts.size, other: (total - most) / total});
};
image.onerror = () => done({colours: 0, other: 0});
image.src = "data:image/png;base64," + data;
"""


class Console:
    """The console at `base` (…/client/) in one browser, as a person uses it."""

    def __init__(self, driver: Any, base: str, shots: Path) -> None:
        self.driver, self.base, self.shots = driver, base, shots
        shots.mkdir(parents=True, exist_ok=True)

    def wait(self, check: Callable[[Any], Any], timeout: float = 30) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(check)

    def find(self, css: str, timeout: float = 30) -> Any:
        from selenium.webdriver.common.by import By

        def visible(driver: Any) -> Any:
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed():
                    return element
            return None

        return self.wait(visible, timeout)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return str(self.find(css).text)

    def wait_text(self, css: str, wanted: str, timeout: float = 30) -> str:
        from selenium.webdriver.common.by import By

        def shown(driver: Any) -> str | None:
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if wanted in element.text:
                    return str(element.text)
            return None

        return str(self.wait(shown, timeout))

    def fresh(self) -> None:
        """A browser with no session: the tab's storage and the cookie are gone."""
        self.driver.get(self.base)
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.delete_all_cookies()
        self.driver.get(self.base)

    def log_in(self, username: str, password: str, domain: str = "/") -> None:
        self.fresh()
        self.find("#username").send_keys(username)
        self.find("#password").send_keys(password)
        self.find("#domain").send_keys(domain)
        self.find("#login-button").click()
        self.find("#shell")
        self.ready()

    def go(self, page: str) -> None:
        self.driver.execute_script("location.hash = arguments[0]", f"#/{page}")
        self.ready(page.split("/")[0])

    def ready(self, page: str | None = None) -> None:
        """Waits until the page has drawn what its first calls answered."""

        def drawn(driver: Any) -> bool:
            return bool(
                driver.execute_script(
                    "const m = document.getElementById('page');"
                    "return m.dataset.ready === 'true'"
                    " && (!arguments[0] || m.dataset.page === arguments[0]);",
                    page,
                )
            )

        self.wait(drawn)

    def chart(self, css: str) -> dict[str, Any]:
        """Waits for a chart drawn in the canvas at `css`; its labels and datasets' sums."""
        script = (
            "const c = document.querySelector(arguments[0]);"
            "const chart = c && window.Chart && window.Chart.getChart(c);"
            "return chart ? {labels: chart.data.labels, sums: chart.data.datasets.map("
            "d => d.data.reduce((a, b) => a + b, 0))} : null;"
        )
        return dict(self.wait(lambda d: d.execute_script(script, css)))

    def nav(self) -> list[str]:
        return [a.text for a in self.all("#nav a")]

    def set_value(self, css: str, value: str) -> None:
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            self.find(css),
            value,
        )

    def shot(self, name: str) -> Path:
        """Saves a screenshot of what the browser shows, and fails if it is blank."""
        data = self.driver.get_screenshot_as_base64()
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        self.driver.set_script_timeout(30)
        measured = self.driver.execute_async_script(_MEASURE, data)
        assert measured["colours"] > 8 and measured["other"] > 0.02, (name, measured)
        faults = self.faults()
        assert not faults, (name, faults)
        return path

    def faults(self) -> list[str]:
        """Script errors and policy violations the page logged since the last look."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if any(word in entry["message"] for word in FAULTS)
        ]
