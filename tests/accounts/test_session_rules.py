"""The session rules with explicit inputs: generation, user, lifetime, and what bumps them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.accounts import sessions, team
from server.accounts import users as accounts
from server.extensions import db

NOW = 1_800_000_000.0
LIFETIME = timedelta(hours=12)


@pytest.fixture
def pair(app):
    """Acme's admin and a rep."""
    admin = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    return admin, rep


def loads(user, recorded, now=NOW) -> bool:
    """Whether a session naming `user` with this stamp is honoured at `now`."""
    return sessions.session_user(db.session, str(user.id), recorded, now, LIFETIME) is user


def test_a_stamp_is_honoured_until_the_lifetime_ends(pair):
    _, rep = pair
    recorded = sessions.stamp(rep, NOW)
    assert loads(rep, recorded) and loads(rep, recorded, NOW + LIFETIME.total_seconds() - 1)
    assert not loads(rep, recorded, NOW + LIFETIME.total_seconds())


def test_a_stamp_must_name_this_user_and_generation(pair):
    admin, rep = pair
    assert not loads(admin, sessions.stamp(rep, NOW))
    for bad in (None, [], [rep.id, 0], [rep.id, 0, "later"], {"u": rep.id}, [rep.id, 0, NOW, 1]):
        assert not loads(rep, bad), bad
    recorded = sessions.stamp(rep, NOW)
    sessions.end_sessions(rep)
    assert not loads(rep, recorded) and loads(rep, sessions.stamp(rep, NOW))
    assert sessions.session_user(db.session, "nobody", recorded, NOW, LIFETIME) is None


@pytest.mark.parametrize("change", ["deactivate", "reactivate", "role"])
def test_team_changes_end_the_members_sessions(pair, change):
    admin, rep = pair
    before = rep.session_generation
    if change == "role":
        team.set_role(db.session, admin, rep.id, "admin")
    else:
        getattr(team, change)(db.session, admin, rep.id)
    db.session.commit()
    db.session.refresh(rep)
    assert rep.session_generation == before + 1


def test_saving_the_same_role_ends_nothing(pair):
    admin, rep = pair
    team.set_role(db.session, admin, rep.id, "rep")
    team.set_role(db.session, admin, admin.id, "admin")
    assert rep.session_generation == admin.session_generation == 0
