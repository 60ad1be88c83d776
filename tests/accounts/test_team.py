"""Invitations, deactivation (tokens and keys revoked at once) and per-rep overrides."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.accounts import team
from server.accounts import users as accounts
from server.accounts.users import AccountError
from server.extensions import db
from server.models import ApiToken, AuditEntry, Event, SigningKey, User
from tests.support import auth, click_for, pixel_for, report_message

SECRET = "test-link-secret"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"


def mailed(invitation) -> str:
    """The token of the link mailed to the invited address."""
    return team.link_token("k", invitation, mailed=True)


def test_an_invitation_works_once(app, admin):
    invitation, _ = team.invite(db.session, "k", admin, " New@Acme.test ", "rep")
    token = mailed(invitation)
    user = team.accept(db.session, "k", token, "Nina")
    db.session.commit()
    assert (user.email, user.role, user.account_id, user.name) == (
        "new@acme.test", "rep", admin.account_id, "Nina",
    )  # fmt: skip
    with pytest.raises(AccountError, match="used already"):
        team.accept(db.session, "k", token)
    with pytest.raises(AccountError, match="not valid"):
        team.accept(db.session, "other-secret", token)
    with pytest.raises(AccountError, match="member of this account already"):
        team.invite(db.session, "k", admin, "new@acme.test", "rep")
    with pytest.raises(AccountError, match="role"):
        team.invite(db.session, "k", admin, "x@acme.test", "owner")


def test_only_the_own_account_is_checked_for_the_address(app, admin):
    elsewhere = accounts.create_user(db.session, "ana@globex.test", "Globex")
    invitation, _ = team.invite(db.session, "k", admin, "ANA@globex.test", "rep")
    assert invitation.email == "ana@globex.test"
    db.session.commit()
    with pytest.raises(AccountError, match="cannot be accepted") as refused:
        team.accept(db.session, "k", mailed(invitation))
    db.session.rollback()
    assert "exists" not in str(refused.value)
    assert db.session.get(type(elsewhere), elsewhere.id).account_id == elsewhere.account_id


def test_a_shown_link_proves_nothing_so_taken_and_free_addresses_answer_alike(app, admin):
    accounts.create_user(db.session, "ana@globex.test", "Globex")
    answers = []
    for address in ("ana@globex.test", "free@globex.test"):
        _, shown = team.invite(db.session, "k", admin, address, "rep")
        db.session.commit()
        with pytest.raises(AccountError) as refused:
            team.accept(db.session, "k", shown, "Admin pretending")
        db.session.rollback()
        answers.append(str(refused.value))
    assert answers[0] == answers[1] == team.NEEDS_PROOF
    assert db.session.scalar(select(User).where(User.email == "free@globex.test")) is None


def test_google_or_the_operator_proves_the_address_of_a_shown_link(app, admin):
    _, shown = team.invite(db.session, "k", admin, "gina@acme.test", "rep")
    with pytest.raises(AccountError, match="cannot prove"):
        team.accept(db.session, "k", shown, "", verified_email="someone@else.test")
    user = team.accept(db.session, "k", shown, "Gina", verified_email="Gina@Acme.test")
    assert (user.email, user.account_id) == ("gina@acme.test", admin.account_id)
    team.invite(db.session, "k", admin, "otto@acme.test", "rep")
    other = accounts.create_user(db.session, "boss@globex.test", "Globex", admin=True)
    team.invite(db.session, "k", other, "otto@acme.test", "rep")
    with pytest.raises(AccountError, match="several accounts"):
        team.admit(db.session, "otto@acme.test")
    admitted = team.admit(db.session, "OTTO@acme.test", "Globex")
    assert admitted.account_id == other.account_id
    with pytest.raises(AccountError, match="no open invitation"):
        team.admit(db.session, "nobody@acme.test")


def test_invitations_expire_and_can_be_withdrawn(app, admin, monkeypatch):
    invitation, _ = team.invite(db.session, "k", admin, "late@acme.test", "admin")
    token = mailed(invitation)
    monkeypatch.setattr(team, "INVITATION_MAX_AGE", -1)
    with pytest.raises(AccountError, match="expired"):
        team.accept(db.session, "k", token)
    monkeypatch.undo()
    team.withdraw(db.session, admin, invitation.id)
    with pytest.raises(AccountError, match="not valid"):
        team.accept(db.session, "k", token)


def test_deactivation_revokes_tokens_and_keys_at_once(app, client, admin):
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    token = accounts.create_api_token(db.session, rep)
    kid = accounts.current_signing_key(db.session, rep).kid
    db.session.commit()
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    db.session.commit()  # the request shared this session: release SQLite's write lock
    report_message(kid, "a" * 22)
    sink = app.extensions["leadcamp.sink"]
    client.get(pixel_for(SECRET, kid, "a" * 22), headers={"User-Agent": CHROME})
    sink.flush()
    assert db.session.query(Event).count() == 1

    assert team.deactivate(db.session, admin, rep.id) == {"tokens": 1, "keys": 1}
    db.session.commit()
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401
    assert db.session.scalar(select(ApiToken.revoked_at)) is not None
    assert db.session.get(SigningKey, kid).revoked_at is not None
    # Links keep working for the recipient, but record nothing, even if the rep returns.
    team.reactivate(db.session, admin, rep.id)
    db.session.commit()
    target = "https://example.test/pricing"
    response = client.get(click_for(SECRET, kid, "a" * 22, target), headers={"User-Agent": CHROME})
    assert response.status_code == 302 and response.headers["Location"] == target
    assert client.get(pixel_for(SECRET, kid, "a" * 22)).status_code == 200
    sink.flush()
    assert db.session.query(Event).count() == 1
    with pytest.raises(AccountError):
        team.deactivate(db.session, admin, admin.id)


def test_the_per_rep_override_only_narrows(app, admin):
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    team.set_tracking(db.session, admin, rep.id, follow_account=False)
    assert rep.tracking_enabled is False and not rep.tracks
    team.set_tracking(db.session, admin, rep.id, follow_account=True)
    assert rep.tracking_enabled is None and rep.tracks
    admin.account.tracking_enabled = False
    assert not rep.tracks


def test_another_accounts_members_are_not_found(app, admin):
    stranger = accounts.create_user(db.session, "x@globex.test", "Globex")
    for action in (team.deactivate, team.reactivate):
        with pytest.raises(team.NotFound):
            action(db.session, admin, stranger.id)
    assert stranger.active


def test_only_open_invitations_can_be_withdrawn(app, admin):
    accepted, _ = team.invite(db.session, "k", admin, "in@acme.test", "rep")
    team.accept(db.session, "k", mailed(accepted))
    withdrawn, _ = team.invite(db.session, "k", admin, "out@acme.test", "rep")
    team.withdraw(db.session, admin, withdrawn.id)
    db.session.commit()
    for invitation in (accepted, withdrawn):
        with pytest.raises(team.NotFound):
            team.withdraw(db.session, admin, invitation.id)
    assert accepted.revoked_at is None
    details = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "team.invite")
    )
    assert list(details).count("withdrawn") == 1


@pytest.mark.parametrize("address", ["nobody", "two words@acme.test", "tab\there@acme.test",
                                     "x" * 311 + "@acme.test"])  # fmt: skip
def test_users_and_invitations_share_one_address_check(app, admin, address):
    with pytest.raises(AccountError, match="not an email address"):
        accounts.create_user(db.session, address, "Acme")
    with pytest.raises(AccountError, match="not an email address"):
        team.invite(db.session, "k", admin, address, "rep")
    assert accounts.checked_email("  Ana@Acme.TEST ") == "ana@acme.test"
