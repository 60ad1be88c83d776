"""Termination: typed confirmation; all personal data deleted or anonymized; aggregates kept."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.accounts import users as accounts
from server.common.mail import Mailer
from server.contacts import service as contacts
from server.extensions import db
from server.models import (
    Account,
    ApiToken,
    Breach,
    Contact,
    DataRequest,
    Event,
    JobRun,
    Message,
    MessageSummary,
    Recipient,
    SigningKey,
    User,
)
from server.privacy import breaches, data_requests, termination
from tests.support.admin import SUBJECT, add_message, tables_mentioning


@pytest.fixture
def acme(app):
    admin = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    accounts.create_api_token(db.session, rep)
    other = accounts.create_user(db.session, "boss@globex.test", "Globex", admin=True)
    message = add_message(rep, SUBJECT, events=3)
    contacts.upsert_contact(db.session, rep.account_id, SUBJECT, "Ana Ruiz")
    contacts.upsert_contact(db.session, other.account_id, "kept@example.test", "Kept")
    add_message(other, "kept@example.test", name="Kept")
    db.session.add(MessageSummary(message_id=message.id, account_id=rep.account_id, opens=3))
    breach, _ = breaches.record(
        db.session, Mailer(), admin,
        {"occurred_at": "2026-11-01T10:00", "description": f"Export for {SUBJECT} mailed wrongly",
         "data_affected": "contact details", "subjects_affected": "Ana Ruiz"},
    )  # fmt: skip
    breaches.add_action(db.session, admin, breach.id, "Ask Ana Ruiz to delete the mail")
    export = data_requests.export(db.session, "k", admin, SUBJECT)
    data_requests.write_export(db.session, export)  # an export's files, ready for download
    db.session.commit()
    return admin.account


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def test_termination_needs_the_typed_name(app, acme):
    with pytest.raises(termination.TerminationError, match="name"):
        termination.terminate(db.session, acme, "acme", "delete")
    with pytest.raises(termination.TerminationError, match="Choose"):
        termination.terminate(db.session, acme, "Acme", "shred")
    assert acme.terminated_at is None


def test_delete_removes_every_personal_row_and_keeps_counts(app, acme):
    result = termination.terminate(db.session, acme, "Acme", "delete")
    db.session.commit()
    assert result["people"] >= 2 and result["google"] == 0
    for needle in (SUBJECT, "acme.test", f"Hello {SUBJECT}", "acme-customer", "Ana Ruiz"):
        assert tables_mentioning(needle) == [], needle
    assert _count(Contact, account_id=acme.id) == 0
    assert _count(JobRun) == _count(DataRequest) == 0
    assert _count(User, account_id=acme.id) == 0
    assert _count(Message, account_id=acme.id) == 0
    assert _count(Event, account_id=acme.id) == 0
    assert db.session.scalar(select(MessageSummary.opens)) == 3
    assert db.session.get(Account, acme.id).terminated_at is not None
    assert tables_mentioning("globex.test") and tables_mentioning("kept@example.test")
    with pytest.raises(termination.TerminationError, match="already"):
        termination.terminate(db.session, acme, "Acme", "delete")


def test_anonymize_keeps_rows_without_identity(app, acme):
    termination.terminate(db.session, acme, "Acme", "anonymize")
    db.session.commit()
    for needle in (SUBJECT, "acme.test", f"Hello {SUBJECT}", "acme-customer", "Ana Ruiz"):
        assert tables_mentioning(needle) == [], needle
    assert _count(Contact, account_id=acme.id) == 1
    assert _count(User, account_id=acme.id) == 2
    assert not any(
        u.active for u in db.session.scalars(select(User).where(User.account_id == acme.id))
    )
    # Each raw hit's time, country and device could single a person out: only counts remain.
    assert _count(Event, account_id=acme.id) == 0
    assert db.session.scalar(select(MessageSummary.opens)) == 3
    assert _count(Recipient) == 2 and _count(ApiToken) == 0
    breach = db.session.scalar(select(Breach).where(Breach.account_id == acme.id))
    assert (breach.description, breach.subjects_affected, breach.reported_by) == ("", "", None)
    assert breach.data_affected == "contact details" and breach.actions[0].description == ""


def test_the_cli_terminates_with_yes_only(app, acme):
    runner = CliRunner()
    refused = runner.invoke(app.cli, ["accounts", "terminate", "Acme", "--mode", "delete"])
    assert refused.exit_code != 0 and "--yes" in refused.output
    unknown = runner.invoke(app.cli, ["accounts", "terminate", "Nope", "--mode", "delete", "--yes"])
    assert unknown.exit_code != 0 and "no account" in unknown.output
    done = runner.invoke(app.cli, ["accounts", "terminate", "Acme", "--mode", "anonymize", "--yes"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.get(Account, acme.id).terminated_at is not None


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_signing_keys_are_deleted_or_kept_revoked(app, acme, mode):
    rep = db.session.scalar(select(User).where(User.email == "rep@acme.test"))
    accounts.current_signing_key(db.session, rep)
    db.session.commit()
    termination.terminate(db.session, acme, "Acme", mode)
    db.session.commit()
    keys = list(db.session.scalars(select(SigningKey).where(SigningKey.account_id == acme.id)))
    if mode == "delete":
        assert keys == []
    else:
        assert keys and all(k.revoked_at and k.retired_at for k in keys)


def test_a_deleted_users_id_is_never_given_to_someone_new(app):
    """Audit entries name users by id: a new person must not inherit a deleted one's."""
    gone = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    gone_id = gone.id
    termination.terminate(db.session, gone.account, "Acme", "delete")
    db.session.commit()
    assert db.session.get(User, gone_id) is None
    newcomer = accounts.create_user(db.session, "new@globex.test", "Globex")
    db.session.commit()
    assert newcomer.id > gone_id
