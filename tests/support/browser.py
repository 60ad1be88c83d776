"""Debian's headless Chromium for the browser tests, through one Playwright driver.

Playwright's sync API runs one driver per thread; the settings-page and extension tests share it.
"""

from __future__ import annotations

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
