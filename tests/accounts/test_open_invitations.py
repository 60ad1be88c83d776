"""One open invitation per address and account: asked twice, the second is refused with a clear
reason, and the database itself refuses a second open row (two admins pressing at once)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.accounts import team
from server.accounts import users as accounts
from server.accounts.users import AccountError
from server.extensions import db
from server.models import Invitation


def open_count(email: str) -> int:
    """Open invitations to `email`."""
    return db.session.scalar(
        select(func.count()).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )


def test_a_second_invitation_is_refused_until_the_first_is_withdrawn(app, admin):
    first, _ = team.invite(db.session, "k", admin, "nina@acme.test", "rep")
    db.session.commit()
    with pytest.raises(AccountError, match="open invitation already") as refused:
        team.invite(db.session, "k", admin, "NINA@acme.test ", "admin")
    assert refused.value.field == "email"
    db.session.rollback()
    assert open_count("nina@acme.test") == 1
    team.withdraw(db.session, admin, first.id)
    second, _ = team.invite(db.session, "k", admin, "nina@acme.test", "admin")
    db.session.commit()
    assert second.id != first.id and open_count("nina@acme.test") == 1


def test_another_account_may_invite_the_same_address(app, admin):
    other = accounts.create_user(db.session, "boss@globex.test", "Globex", admin=True)
    team.invite(db.session, "k", admin, "nina@acme.test", "rep")
    team.invite(db.session, "k", other, "nina@acme.test", "rep")
    db.session.commit()
    assert open_count("nina@acme.test") == 2


def test_a_member_is_not_invited(app, admin):
    with pytest.raises(AccountError, match="member of this account already") as refused:
        team.invite(db.session, "k", admin, admin.email.upper(), "rep")
    assert refused.value.field == "email"


def test_the_database_refuses_a_second_open_invitation(app, admin):
    team.invite(db.session, "k", admin, "nina@acme.test", "rep")
    db.session.commit()
    db.session.add(Invitation(account_id=admin.account_id, email="nina@acme.test", role="rep"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert open_count("nina@acme.test") == 1


def test_two_admins_pressing_at_once_get_one_invitation(app, admin, monkeypatch):
    team.invite(db.session, "k", admin, "nina@acme.test", "rep")
    db.session.commit()
    # The second admin's check ran before the first one's row was there: only the index sees it.
    check = team._refuse_second_invitation
    calls = []

    def late_check(session, account_id, email):
        calls.append(email)
        if len(calls) > 1:
            check(session, account_id, email)

    monkeypatch.setattr(team, "_refuse_second_invitation", late_check)
    with pytest.raises(AccountError, match="open invitation already"):
        team.invite(db.session, "k", admin, "nina@acme.test", "admin")
    db.session.rollback()
    assert len(calls) == 2 and open_count("nina@acme.test") == 1
