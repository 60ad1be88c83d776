"""Fixtures of the security suite: the two-account world and people signed in to it."""

from __future__ import annotations

import pytest

from server.accounts import users as accounts
from server.extensions import db
from tests.conftest import make_settings
from tests.security import world as worlds
from tests.support.admin import sign_in
from tests.support.google import with_google


@pytest.fixture
def settings(database_url, tmp_path):
    """Test settings with Google configured: without it the Google pages answer 503 (not
    configured), which would hide what they answer another account's people. The suite signs
    in hundreds of times from one address: the rate limits (tested in tests/auth) stay out of
    its way."""
    base = make_settings(database_url, spool_dir=tmp_path / "spool", instance_path=tmp_path)
    generous = "100000 per minute"
    return with_google(base).replace(
        rate_limit_sign_in=generous, rate_limit_connect=generous, rate_limit_bad_tokens=generous
    )


@pytest.fixture
def world(app) -> worlds.World:
    """The victim's account with its rows, and another account's rep and admin."""
    return worlds.build(app.config["SECRET_KEY"], app.config["LEADCAMP"].link_secrets[0])


@pytest.fixture
def visitor(app, fresh_g_per_request):
    """A fresh client as `user` (None: anonymous): signed in through the magic link, and a
    fresh API token of theirs to send as a bearer header; returns (client, headers)."""

    def visit(user):
        client = app.test_client()
        if user is None:
            return client, {}
        sign_in(client, app.config["SECRET_KEY"], user)
        token = accounts.create_api_token(db.session, user)
        db.session.commit()
        return client, {"Authorization": f"Bearer {token}"}

    return visit
