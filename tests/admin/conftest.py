"""Fixtures for the settings pages: two accounts with admins and a rep, signed-in clients, and
(for the browser tests) Chromium driving the app served by a werkzeug thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from server.accounts import users as accounts
from server.extensions import db
from server.models import User
from tests.support.admin import sign_in
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Every settings-page test gets a fresh `g` per request (tests/conftest.py)."""


@dataclass
class People:
    """Acme's admin and rep, and the admin of another account."""

    admin: User
    rep: User
    other: User


@pytest.fixture
def people(app) -> People:
    """Two accounts: Acme (an admin and a rep) and Globex (an admin)."""
    admin = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    other = accounts.create_user(db.session, "boss@globex.test", "Globex", admin=True)
    db.session.commit()
    return People(admin, rep, other)


@pytest.fixture
def login(app):
    """A fresh test client signed in as the given user."""

    def login(user: User):
        return sign_in(app.test_client(), app.config["SECRET_KEY"], user)

    return login


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


@pytest.fixture
def page(browser):
    """A fresh browser page (own cookies)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
