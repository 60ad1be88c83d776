"""Retention per kind of data: a row older than its period is gone after the purge, one exactly
as old stays (the raw-event rule), and a message takes everything hanging off it along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from server.accounts import users as accounts
from server.extensions import db
from server.models import (
    AuditEntry,
    Breach,
    BreachAction,
    Contact,
    ContactAddress,
    DataRequest,
    Enrichment,
    Event,
    Link,
    Message,
    MessageSummary,
    Recipient,
    SelfView,
)
from server.privacy import retention
from tests.support.admin import add_message

NOW = datetime(2026, 11, 25, 3, 17, 0, 123456, tzinfo=UTC)
PERIODS = retention.Periods(messages=100, contacts=200, enrichment=50, breaches=300,
                           data_requests=400)  # fmt: skip
TINY = timedelta(microseconds=1)


def _purge(periods=PERIODS):
    removed = retention.purge_kinds(db.session, NOW, periods)
    db.session.commit()
    db.session.expire_all()
    return removed


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _message(user, recipient: str, sent_at: datetime) -> Message:
    message = add_message(user, recipient, events=2)
    message.sent_at, message.gmail_message_id = sent_at, f"gm-{recipient}"
    message.links.append(Link(position=0, url="https://shop.test/"))
    db.session.add(MessageSummary(message_id=message.id, account_id=user.account_id, opens=1))
    db.session.add(SelfView(message_id=message.id, user_id=user.id, viewed_at=NOW))
    db.session.commit()
    return message


def test_a_message_past_its_period_goes_with_everything_hanging_off_it(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    boundary = NOW - timedelta(days=100)
    kept = _message(rep, "kept@example.test", boundary).id
    gone = _message(rep, "gone@example.test", boundary - TINY).id
    assert _purge() == {rep.account_id: {"messages": 1}}
    assert set(db.session.scalars(select(Message.id))) == {kept}
    for model in (Recipient, Link, Event, MessageSummary, SelfView):
        assert set(db.session.scalars(select(model.message_id))) == {kept}, model
    assert (
        db.session.scalar(select(Message.id).where(Message.gmail_message_id.like("%gone%"))) is None
    )
    assert gone not in {r for r in db.session.scalars(select(Event.message_id))}
    detail = db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "retention.purge")
    )
    assert detail == "1 messages older than their retention"


def test_an_inactive_contact_goes_and_one_changed_or_mailed_lately_stays(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    boundary = NOW - timedelta(days=200)
    rows = {
        "boundary": Contact(email="boundary@x.test", updated_at=boundary),
        "stale": Contact(email="stale@x.test", updated_at=boundary - TINY),
        "mailed": Contact(email="mailed@x.test", updated_at=boundary - timedelta(days=9)),
        "alias": Contact(email="alias@x.test", updated_at=boundary - timedelta(days=9)),
    }
    for contact in rows.values():
        contact.account_id, contact.email_display = rep.account_id, contact.email
        db.session.add(contact)
    db.session.flush()
    rows["stale"].enrichment = Enrichment(account_id=rep.account_id, provider="clearbit")
    rows["alias"].addresses.append(ContactAddress(account_id=rep.account_id, email="a.lias@x.test"))
    db.session.commit()
    _message(rep, "mailed@x.test", boundary)  # mailed at the boundary: still active
    _message(rep, "a.lias@x.test", NOW)  # mailed under another spelling
    only_contacts = retention.Periods(0, 200, 0, 0, 0)
    assert _purge(only_contacts) == {rep.account_id: {"contacts": 1}}
    emails = set(db.session.scalars(select(Contact.email)))
    assert emails == {"boundary@x.test", "mailed@x.test", "alias@x.test"}
    assert _count(Enrichment) == 0


def test_an_old_enrichment_answer_goes_with_what_it_filled_in(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    boundary = NOW - timedelta(days=50)
    for email, fetched in (("kept@x.test", boundary), ("gone@x.test", boundary - TINY)):
        contact = Contact(account_id=rep.account_id, email=email, email_display=email, title="CTO")
        contact.enrichment = Enrichment(
            account_id=rep.account_id, provider="clearbit", status="found", fetched_at=fetched,
            requested_at=fetched, person={"title": "CTO"}, filled={"title": "CTO"},
        )  # fmt: skip
        db.session.add(contact)
    db.session.commit()
    assert _purge() == {rep.account_id: {"enrichment": 1}}
    assert [c.email for c in db.session.scalars(select(Contact).join(Contact.enrichment))] == [
        "kept@x.test"
    ]
    gone = db.session.scalar(select(Contact).where(Contact.email == "gone@x.test"))
    assert gone.title == ""  # what the answer filled in went with it


def _breach(account_id: int, closed_at: datetime | None) -> None:
    breach = Breach(
        account_id=account_id, occurred_at=NOW - timedelta(days=999), description="d",
        data_affected="names", subjects_affected="ana", status="closed" if closed_at else "open",
        closed_at=closed_at,
    )  # fmt: skip
    breach.actions.append(BreachAction(description="told them", done_at=closed_at))
    db.session.add(breach)


def test_a_breach_closed_before_its_period_goes_and_an_open_one_stays(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    boundary = NOW - timedelta(days=300)
    _breach(rep.account_id, boundary)
    _breach(rep.account_id, boundary - TINY)
    _breach(rep.account_id, None)  # open, however old
    db.session.commit()
    assert _purge() == {rep.account_id: {"breaches": 1}}
    assert _count(Breach) == 2 and _count(BreachAction) == 2


def test_data_request_records_older_than_their_period_go(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    boundary = NOW - timedelta(days=400)
    for at in (boundary, boundary - TINY):
        db.session.add(DataRequest(account_id=rep.account_id, kind="search",
                                   subject_digest="d" * 64, created_at=at))  # fmt: skip
    db.session.commit()
    assert _purge() == {rep.account_id: {"data_requests": 1}}
    assert list(db.session.scalars(select(DataRequest.created_at))) == [boundary]


def test_zero_keeps_a_kind_and_the_purge_command_uses_the_settings(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    old = datetime.now(UTC) - timedelta(days=5000)
    _message(rep, "old@example.test", old)
    assert _purge(retention.Periods(0, 0, 0, 0, 0)) == {}
    assert _count(Message) == 1
    result = CliRunner().invoke(app.cli, ["purge"], catch_exceptions=False)
    assert "purged 1 messages (older than their retention)" in result.output
    assert _count(Message) == 0
