"""Fixtures for the rep's pages: Acme's rep with a day of tracked mail, a colleague, the admin,
and another account; signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.accounts import users as accounts
from server.extensions import db
from server.models import Message, User
from tests.support.admin import sign_in
from tests.support.tracked import DESKTOP, Hit, tracked


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Every page test gets a fresh `g` per request (tests/conftest.py)."""


@dataclass
class Desk:
    """Acme's rep, colleague and admin, Globex's admin, and the rep's messages by name."""

    rep: User
    colleague: User
    admin: User
    other: User
    mail: dict[str, Message]


LINKS = ["https://acme.test/pricing", "https://acme.test/demo"]


@pytest.fixture
def desk(app) -> Desk:
    """The rep's mail: Ana opened on her iPhone and clicked; a scanner and Apple's prefetch
    fetched Bo's; Cy replied; Dee's bounced; nothing on Ed's. Nina's and Globex's mail too."""
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme", name="Rita Rep")
    colleague = accounts.create_user(db.session, "nina@acme.test", "Acme")
    admin = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    other = accounts.create_user(db.session, "boss@globex.test", "Globex", admin=True)
    db.session.commit()
    mail = {
        "ana": tracked(
            rep,
            "ana@lead.test",
            "Pricing for Lead Co",
            [
                Hit("click", 5, verdict="scanner", reasons="safe-links", link=LINKS[0]),
                Hit("open", 3600),
                Hit("click", 3000, link=LINKS[1], device=DESKTOP),
            ],
            sent_ago=7200,
            links=LINKS,
            name="Ana Ruiz",
        ),
        "bo": tracked(
            rep,
            "bo@lead.test",
            "Prefetched only",
            [
                Hit("open", 20, verdict="machine", reasons="apple-mail-privacy"),
                Hit("open", 10, verdict="scanner", reasons="security-gateway"),
            ],
            sent_ago=6000,
        ),
        "cy": tracked(rep, "cy@lead.test", "Replied", [Hit("reply", 1800)], sent_ago=5000),
        "dee": tracked(
            rep,
            "dee@lead.test",
            "Bounced",
            [Hit("bounce", 900, verdict="machine", reasons="gmail-delivery-failure")],
            sent_ago=4000,
        ),
        "ed": tracked(rep, "ed@lead.test", "Nothing yet", [], sent_ago=3000),
        "nina": tracked(colleague, "fay@lead.test", "Nina's mail", [Hit("open", 600)]),
        "globex": tracked(other, "gus@lead.test", "Globex secret", [Hit("open", 500)]),
    }
    return Desk(rep, colleague, admin, other, mail)


@pytest.fixture
def login(app):
    """A fresh test client signed in as the given user."""

    def login(user: User):
        return sign_in(app.test_client(), app.config["SECRET_KEY"], user)

    return login
