"""axe-core in a Selenium page: the WCAG 2.1 A and AA rules, vendored (tests/vendor/README.md),
so the accessibility check needs no network. `serious` lists what a test must not leave."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from selenium.webdriver.remote.webdriver import WebDriver

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then((results) => done(results.violations), (error) => done({error: String(error)}));
"""


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(driver: WebDriver) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA violation axe finds on the current page."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(_source())
    driver.set_script_timeout(60)
    found = driver.execute_async_script(_RUN, TAGS)
    if isinstance(found, dict):
        raise RuntimeError(f"axe failed: {found['error']}")
    return found


def serious(driver: WebDriver) -> list[str]:
    """The serious and critical violations, one readable line per element."""
    return [f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}"
            for v in violations(driver) if v["impact"] in BLOCKING for node in v["nodes"]]
