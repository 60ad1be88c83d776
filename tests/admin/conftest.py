"""Fixtures for the settings pages: two accounts with admins and a rep, signed-in clients (the
browser tests' `page` and `live_app` are tests/support/browser.py's)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.accounts import users as accounts
from server.extensions import db
from server.models import User
from tests.support.admin import sign_in


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
