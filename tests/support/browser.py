"""Debian's headless Chromium for the browser tests, through one Playwright driver.

Playwright's sync API runs one driver per thread; the settings-page and extension tests share it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches Chromium keeps dialling Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def playwright():
    """The session's Playwright driver; fails plainly when Chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


# Where a failed browser test leaves a screenshot of its page (gitignored; CI keeps the folder).
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test with a Playwright `page` that failed saves a screenshot of it, named after the
    test, under ARTIFACTS/screenshots."""
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when != "call" or not report.failed or page is None:
        return
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
    target = ARTIFACTS / "screenshots" / f"{name}.png"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
    except Exception as exc:  # a closed or crashed page: the failure itself matters more
        report.sections.append(("screenshot", f"not saved: {exc}"))
    else:
        report.sections.append(("screenshot", str(target)))
