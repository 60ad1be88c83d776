"""Sub-processor changes: one result shape, admins' addresses, other accounts' entries unseen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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


def test_the_seeded_list_names_what_the_server_uses_with_countries(app, admin):
    settings = app.config["LEADCAMP"].replace(
        hosting_provider="Hetzner Online GmbH", hosting_country="Germany",
        smtp_host="smtp.relay.test", smtp_provider="Postmark (ActiveCampaign)",
        smtp_country="United States",
    )  # fmt: skip
    rows = subprocessors.listing(db.session, admin.account_id, subprocessors.defaults(settings))
    seeded = {row.service: (row.name, row.country) for row in rows}
    assert seeded == {
        "hosting": ("Hetzner Online GmbH", "Germany"),
        "enrichment": ("Clearbit (HubSpot, Inc.)", "United States"),
        "google": ("Google (Google LLC; Google Ireland Limited)", "United States; Ireland"),
        "smtp": ("Postmark (ActiveCampaign)", "United States"),
    }
    without_smtp = app.config["LEADCAMP"].replace(smtp_host="")
    assert "smtp" not in {e["service"] for e in subprocessors.defaults(without_smtp)}


def test_only_entries_outside_the_eea_carry_a_transfer_note(app, admin):
    rows = subprocessors.listing(
        db.session,
        admin.account_id,
        subprocessors.defaults(app.config["LEADCAMP"].replace(hosting_country="Germany")),
    )
    notes = {row.service: subprocessors.transfer_note(row) for row in rows}
    assert notes["hosting"] == ""
    assert (
        notes["google"]
        == notes["enrichment"]
        == (
            "Transfer outside the EEA (third country); transfer mechanism: "
            "EU-U.S. Data Privacy Framework; Standard Contractual Clauses."
        )
    )


def test_an_addition_waits_out_the_notice_period_unless_urgent(app, admin):
    now = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    entry, _ = subprocessors.add(db.session, Mailer(), admin, ENTRY, now=now, notice_days=10)
    assert entry.effective_at == now + timedelta(days=10)
    assert not subprocessors.in_use(entry, now + timedelta(days=10, seconds=-1))
    assert subprocessors.in_use(entry, now + timedelta(days=10))
    urgent, _ = subprocessors.add(db.session, Mailer(), admin, ENTRY | {"urgent": "on"}, now=now)
    assert urgent.effective_at == now and subprocessors.in_use(urgent, now)
    [latest, first] = subprocessors.changes(db.session, admin.account_id)
    assert (first.effective_at, latest.effective_at) == (now + timedelta(days=10), now)


def test_a_new_country_restarts_the_notice_and_a_wording_fix_does_not(app, admin):
    now = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    entry, _ = subprocessors.add(db.session, Mailer(), admin, ENTRY | {"urgent": "on"}, now=now)
    later = now + timedelta(days=1)
    reworded = ENTRY | {"safeguard": "EU adequacy"}
    subprocessors.edit(db.session, Mailer(), admin, entry.id, reworded, now=later, notice_days=30)
    assert entry.effective_at == now
    moved = reworded | {"country": "United States"}
    subprocessors.edit(db.session, Mailer(), admin, entry.id, moved, now=later, notice_days=30)
    assert entry.effective_at == later + timedelta(days=30)


def test_an_unknown_service_is_refused(app, admin):
    with pytest.raises(subprocessors.SubProcessorError, match="used for"):
        subprocessors.add(db.session, Mailer(), admin, ENTRY | {"service": "crm"})
