"""Debian's headless Chromium for the browser tests, through one Playwright driver, and the app
served on a real socket for it to open.

Playwright's sync API runs one driver per thread; the settings-page and extension tests share it.
A browser test that fails leaves a screenshot of its page in test-artifacts/ (or
$TEST_ARTIFACTS), named after the test.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

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
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


@pytest.fixture(scope="session")
def playwright():
    """The session's Playwright driver; fails plainly when Chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


class QuietHandler(WSGIRequestHandler):
    """No request log: it would carry client addresses."""

    def log_request(self, *args, **kwargs):
        """Log nothing."""


@pytest.fixture
def live_app(app):
    """The app served by a werkzeug thread (embedded sink) on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's headless Chromium, driven by Playwright."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's outcome on the test, so `page` knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"outcome_{report.when}", report)


@pytest.fixture
def page(browser, request):
    """A fresh browser page (own cookies); a screenshot of it when the test failed."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    called = getattr(request.node, "outcome_call", None)
    if called is not None and called.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
