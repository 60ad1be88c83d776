"""Sub-processor changes: one result shape, admins' addresses, other accounts' entries unseen."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from server.accounts import team
from server.accounts import users as accounts
from server.common.mail import Mailer
from server.extensions import db
from server.privacy import subprocessors

ENTRY = {"name": "MailCo", "country": "Ireland", "purpose": "Mail", "safeguard": "EU"}


@dataclass(frozen=True)
class Outbox(Mailer):
    """A configured mailer that keeps what it would send."""

    host: str = "smtp.test"
    sent: list = field(default_factory=list)

    def send(self, to, subject, body):
        self.sent.append((sorted(to), subject))
        return True


@pytest.fixture
def admin(app):
    user = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    accounts.create_user(db.session, "second@acme.test", "Acme", admin=True).active = False
    accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    return user


def test_add_edit_and_remove_answer_alike_and_mail_the_active_admins(app, admin):
    outbox = Outbox()
    entry, sent = subprocessors.add(db.session, outbox, admin, ENTRY)
    assert sent is True
    assert subprocessors.edit(db.session, outbox, admin, entry.id, ENTRY) == (entry, None)
    assert subprocessors.remove(db.session, outbox, admin, entry.id) == (entry, True)
    assert team.admin_addresses(admin.account) == ["boss@acme.test"]
    assert [to for to, _ in outbox.sent] == [["boss@acme.test"]] * 2


def test_another_accounts_entry_is_not_found(app, admin):
    entry, _ = subprocessors.add(db.session, Mailer(), admin, ENTRY)
    stranger = accounts.create_user(db.session, "x@globex.test", "Globex", admin=True)
    with pytest.raises(team.NotFound):
        subprocessors.remove(db.session, Mailer(), stranger, entry.id)


@pytest.mark.parametrize(("field", "limit"), sorted(subprocessors.LIMITS.items()))
def test_an_overlong_field_is_refused_before_the_database(app, admin, field, limit):
    with pytest.raises(subprocessors.SubProcessorError, match=f"longer than {limit}"):
        subprocessors.add(db.session, Mailer(), admin, ENTRY | {field: "x" * (limit + 1)})
    db.session.rollback()
    entry, _ = subprocessors.add(db.session, Mailer(), admin, ENTRY | {field: "x" * limit})
    db.session.commit()
    with pytest.raises(subprocessors.SubProcessorError, match=f"longer than {limit}"):
        subprocessors.edit(db.session, Mailer(), admin, entry.id, ENTRY | {field: "y" * 5000})
