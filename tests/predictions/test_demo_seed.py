"""The demo generator: clearly fake, realistic in its verdict mix and working-hours sending,
consistent summaries, signal the predictions can find; never over real data unless forced; and
`demo clear` takes only what it added."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.common import job_runs
from server.contacts import engagement
from server.extensions import db
from server.insights import reports
from server.models import (
    Account,
    Contact,
    ContactAddress,
    Event,
    Message,
    MessageSummary,
    Recipient,
    ReportRollup,
    User,
)
from server.predictions import backtest, seeding, service, shrinkage
from server.tracking.events import REASON_WORDS
from server.tracking.summaries import summarize
from tests.support.admin import add_message

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def seeded(app):
    counts = seeding.seed(db.session, "Demo Co", 400, 4, now=NOW)
    db.session.commit()
    return db.session.scalar(select(Account).where(Account.name == "Demo Co")), counts


def test_everything_is_on_reserved_names_and_documentation_networks(seeded):
    account, counts = seeded
    assert counts["contacts"] == 400 and counts["messages"] > 400
    emails = db.session.scalars(select(Contact.email).where(Contact.account_id == account.id))
    assert all(e.endswith(".example") for e in emails)
    reps = db.session.scalars(select(User.email).where(User.account_id == account.id)).all()
    assert len(reps) == counts["reps"] and all(r.endswith("@demo.invalid") for r in reps)
    prefixes = set(db.session.scalars(select(Event.ip_prefix).where(Event.ip_prefix.is_not(None))))
    assert prefixes <= {"192.0.2.0", "198.51.100.0", "203.0.113.0"}


def test_the_verdict_mix_looks_like_real_traffic(seeded):
    opens = Counter(db.session.scalars(select(Event.verdict).where(Event.kind == "open")).all())
    total = sum(opens.values())
    assert {"human", "proxy", "machine", "scanner", "self", "bot"} <= set(opens)
    real = (opens["human"] + opens["proxy"]) / total
    assert 0.35 < real < 0.75, opens  # many opens are machines: real ones a bare majority
    assert 0.1 < opens["machine"] / total < 0.35, opens  # Apple's prefetch
    kinds = Counter(db.session.scalars(select(Event.kind)).all())
    assert kinds["reply"] and kinds["click"] and kinds["bounce"] and kinds["auto_reply"]
    messages = db.session.scalar(select(func.count()).select_from(Message))
    assert 0.04 < kinds["reply"] / messages < 0.25
    assert kinds["bounce"] / messages < 0.06


def test_hits_come_from_places_and_devices_as_real_ones_do(seeded):
    rows = db.session.execute(
        select(Event.verdict, Event.country, Event.city, Event.device_type, Event.os_family)
        .where(Event.kind.in_(("open", "click")))
    ).all()  # fmt: skip
    by_verdict: dict[str, list] = {}
    for verdict, *seen in rows:
        by_verdict.setdefault(verdict, []).append(tuple(seen))
    # Google's proxy hides where and on what; a person's reads show both, a scanner no device.
    assert set(by_verdict["proxy"]) == {(None, None, None, None)}
    assert all(c and city and d and os for c, city, d, os in by_verdict["human"])
    assert {d for _, _, d, _ in by_verdict["human"]} == {"desktop", "mobile"}
    assert all(c and d is None for c, _, d, _ in by_verdict["scanner"])
    assert {row.country for row in rows} - {None} <= {"US", "GB", "DE"}


def test_every_demo_reason_reads_in_words_as_the_classifiers_do(seeded):
    codes = {c for r in db.session.scalars(select(Event.reasons).distinct()) for c in r.split(",")}
    assert codes - {""} and codes - {""} <= set(REASON_WORDS), codes - set(REASON_WORDS)


def test_demo_contacts_find_their_mail_and_score(seeded):
    account, counts = seeded
    addresses = db.session.scalar(select(func.count()).select_from(ContactAddress))
    assert addresses == counts["contacts"]
    ids = list(db.session.scalars(select(Contact.id).where(Contact.account_id == account.id)))
    scored = engagement.scores(db.session, account.id, ids, None, NOW)
    assert sum(score > 0 for score, _ in scored.values()) > len(ids) / 10


def test_reports_count_every_demo_message_sent(seeded):
    account, counts = seeded
    report = reports.report(db.session, account.id, None, "month", NOW.date(), 6)
    assert sum(p["sent"] for p in report["series"]) == counts["messages"]


def test_mail_is_sent_in_working_hours_on_weekdays(seeded):
    sent = db.session.scalars(select(Message.sent_at)).all()
    weekend = sum(s.weekday() >= 5 for s in sent) / len(sent)
    assert weekend < 0.08
    night = sum(s.hour in (1, 2, 3, 4) for s in sent) / len(sent)  # no rep's working hours
    assert night < 0.02
    assert max(sent) <= NOW


def test_summaries_agree_with_the_events(seeded):
    rows = db.session.execute(
        select(Event.message_id, Event.account_id, Event.kind, Event.verdict, Event.occurred_at)
    ).mappings()
    expected = summarize([{**r, "occurred_at": r["occurred_at"].timestamp()} for r in rows])
    stored = {s.message_id: s for s in db.session.scalars(select(MessageSummary))}
    assert set(stored) == set(expected)
    for mid, want in expected.items():
        got = stored[mid]
        assert (got.opens, got.clicks, got.replies, got.bounces, got.n_machine) == (
            want["opens"], want["clicks"], want["replies"], want["bounces"], want["n_machine"]
        )  # fmt: skip
        assert got.first_open_at == want["first_open_at"]


def test_contacts_differ_beyond_chance_so_there_is_signal(seeded):
    per_contact: dict[str, list[int]] = {}
    replied = set(db.session.scalars(select(Event.message_id).where(Event.kind == "reply")))
    for mid, email in db.session.execute(select(Recipient.message_id, Recipient.email)):
        counts = per_contact.setdefault(email, [0, 0])
        counts[0 if mid in replied else 1] += 1
    rate = sum(c[0] for c in per_contact.values()) / sum(map(sum, per_contact.values()))
    kappa = shrinkage.strength(((c, [rate, 1 - rate]) for c in per_contact.values()), 999)
    assert kappa < 50  # a population of equal contacts would pool fully (999)


def test_real_data_is_refused_unless_forced_and_clear_takes_only_demo_rows(app, rep):
    user, _ = rep
    real = add_message(user, "ana@customer.test")
    with pytest.raises(seeding.SeedError, match="real messages"):
        seeding.seed(db.session, "Acme", 50, 2, now=NOW)
    db.session.rollback()
    seeding.seed(db.session, "Acme", 50, 2, now=NOW, force=True)
    db.session.commit()
    with pytest.raises(seeding.SeedError, match="demo data already"):
        seeding.seed(db.session, "Acme", 50, 2, now=NOW, force=True)
    db.session.rollback()
    reports.report(db.session, user.account_id, None, "month", NOW.date(), 3)  # builds roll-ups
    demo_rep = db.session.scalar(select(User).where(User.email.like("%@demo.invalid")))
    job_runs.create(db.session, "contacts_import", demo_rep, {})  # someone signed in as a rep
    db.session.commit()
    removed = seeding.clear(db.session, user.account_id)
    db.session.commit()
    assert set(db.session.scalars(select(ReportRollup.user_id))) <= {user.id}
    assert removed["contacts"] == 50 and removed["reps"] >= 2 and removed["events"] > 0
    assert db.session.scalars(select(Message.id)).all() == [real.id]
    assert db.session.get(User, user.id) is not None
    assert seeding.real_data(db.session, user.account_id) == 1  # the real message, kept


def test_on_six_months_of_demo_data_the_reply_model_beats_its_baseline(app):
    seeding.seed(db.session, "Demo Co", 1500, 6, now=NOW)
    account = db.session.scalar(select(Account).where(Account.name == "Demo Co"))
    result, model = backtest.run(db.session, account.id, NOW, weeks=4)
    assert result["reply"]["n"] > 300
    assert result["reply"]["model"]["log_loss"] < result["reply"]["baseline"]["log_loss"]
    assert result["best_time"]["beats_baseline"]
    service.store(db.session, account.id, result, model)
    db.session.commit()
    assert service.beats(service.latest(db.session, account.id), "reply")
