"""Shared fixtures: a migrated real database (SQLite, and PostgreSQL when it answers), the app,
its test client, and people with API tokens.

Every test that uses `app` runs once per backend. PostgreSQL tests get a database of their own,
created for this run and dropped at its end (tests/support/postgres.py), so runs sharing a server
never meet.
"""

from __future__ import annotations

import os

import pytest
from flask import g, request_started

from config import Settings
from server import create_app
from server.accounts import users as accounts
from server.extensions import db
from tests.support import postgres

pytest_plugins = [
    "tests.support.live",  # first: other plugins import it, and it must be rewritten for asserts
    "tests.support.google",
    "tests.support.browser",
    "tests.support.clearbit",
    "tests.support.smtp",
    "tests.support.mmdb",
]

# The server the PostgreSQL tests run on, and the database the suite connects to there only to
# create (and at the end drop) the run's own one.
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def sqlalchemy_url(url: str) -> str:
    """psycopg 3's SQLAlchemy dialect name for a postgresql:// URL."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


BACKENDS = ["sqlite"] + (["postgresql"] if postgres.answers(PG_URL) else [])


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database on each backend, for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        yield from _migrated(url)
        return
    with postgres.throwaway_database(PG_URL, postgres.TEST_PREFIX) as url:
        yield from _migrated(sqlalchemy_url(url))


def _migrated(url: str):
    from flask_migrate import upgrade

    app = create_app(make_settings(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url


def make_settings(database_url: str, **changes) -> Settings:
    """Test settings: fresh secrets, the given database, a private spool directory."""
    env = {
        "SECRET_KEY": "test-secret-key",
        "LINK_SIGNING_SECRETS": "test-link-secret,old-link-secret",
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "http://track.test",
        "TESTING": "true",
        "EVENT_SINK": "embedded",  # in-process writes: a flush() makes hits visible at once
    }
    return Settings.from_env(env).replace(**changes)


@pytest.fixture
def settings(database_url, tmp_path):
    """Settings for one test."""
    return make_settings(database_url, spool_dir=tmp_path / "spool", instance_path=tmp_path)


def running_app(settings):
    """The app built from `settings`, inside its context; afterwards its sink is closed and the
    database emptied."""
    app = create_app(settings)
    with app.app_context():
        yield app
        app.extensions["leadcamp.sink"].close()
        db.session.remove()
        empty_database(db.engine)
        db.engine.dispose()


@pytest.fixture
def app(settings):
    """The app on an emptied database; its event sink is closed afterwards."""
    yield from running_app(settings)


def empty_database(engine) -> None:
    """Delete every row of every table (children first)."""
    from tests.support.audit_guard import delete_audit_entries

    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            if table.name == "audit_entries":
                delete_audit_entries(conn)  # append-only: the database refuses a plain DELETE
                continue
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    """Flask's test client (it goes through the tracking fast path too)."""
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user; returns (user, api token)."""

    def make(email="rep@acme.test", account="Acme", admin=False, token=True):
        """`token=False` issues none (and audits none): the token is then None."""
        user = accounts.create_user(db.session, email, account, admin=admin)
        issued = accounts.create_api_token(db.session, user) if token else None
        db.session.commit()
        return user, issued

    return make


@pytest.fixture
def rep(make_user):
    """A rep with an API token."""
    return make_user()


@pytest.fixture
def admin(make_user):
    """Acme's admin (boss@acme.test), without an API token."""
    return make_user("boss@acme.test", admin=True, token=False)[0]


@pytest.fixture
def kid(rep):
    """The rep's current link-signing key id."""
    key = accounts.current_signing_key(db.session, rep[0])
    db.session.commit()
    return key.kid


@pytest.fixture
def fresh_g_per_request(app):
    """Each request starts with an empty `g`, as in production, where each request has its own
    app context; here the test's app context is shared, and Flask-WTF and Flask-Login cache the
    CSRF token and the user in `g`, which would carry one client's over to the next."""

    def clear(sender, **extra):
        for name in list(g):
            g.pop(name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)
