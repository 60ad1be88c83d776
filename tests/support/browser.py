"""Debian's headless Chromium for the browser tests, through one Playwright driver; the app
served on a real socket for them; and a screenshot of every page a failing test left open.

Playwright's sync API runs one driver per thread; the settings-page and extension tests share it.
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
# Where a failed browser test leaves screenshots of its pages (gitignored; CI keeps the folder).
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


@pytest.fixture(scope="session")
def playwright():
    """The session's Playwright driver; fails plainly when Chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's headless Chromium, driven by Playwright."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (own cookies)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test fails, save a screenshot of every open page of its browser fixtures (any
    fixture holding a Playwright page or browser) under test-artifacts/, named after the test."""
    report = yield
    if report.when == "call" and report.failed:
        for path in save_screenshots(item):
            report.sections.append(("screenshot", str(path)))
    return report


def save_screenshots(item) -> list[Path]:
    """Screenshots of the test's open pages; a page that cannot be shot is skipped."""
    pages = []
    for value in getattr(item, "funcargs", {}).values():
        if hasattr(value, "screenshot") and hasattr(value, "is_closed"):
            pages.append(value)
        elif hasattr(value, "contexts") and hasattr(value, "new_context"):  # a browser
            pages += [p for context in value.contexts for p in context.pages]
        elif hasattr(value, "pages") and hasattr(value, "new_page"):  # a browser context
            pages += list(value.pages)
    name = re.sub(r"[^\w.-]+", "_", item.nodeid)[-150:]
    saved = []
    for index, page in enumerate(dict.fromkeys(pages)):
        path = ARTIFACTS / f"{name}-{index}.png"
        try:
            if not page.is_closed():
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)
        except Exception:  # a crashed page or a closed browser: nothing to keep
            continue
    return saved


def sign_in(page, base: str, app, user) -> None:
    """Open the user's magic link and press the button, as a person would; waits for the
    start page."""
    from server.accounts import users as accounts
    from server.extensions import db

    db.session.commit()
    token = accounts.magic_link_token(app.config["SECRET_KEY"], user)
    page.goto(f"{base}/auth/magic/{token}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
