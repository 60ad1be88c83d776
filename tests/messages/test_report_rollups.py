"""Report roll-ups against counting the messages one by one: the hand-made history, a random
one with re-reports and relabelling, new hits through the batch writer, erasure, the job."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, timedelta
from statistics import median

import pytest
from sqlalchemy import select

from server.extensions import db
from server.gmail.mail import Mail, confirm
from server.insights import periods, reports
from server.messages import jobs, rollups
from server.messages.personal_data import erase_messages
from server.models import Event, Message, MessageSummary, ReportRollup
from server.models.message import VERDICTS
from server.tracking.ingest import BatchWriter
from server.tracking.summaries import relabel
from server.tracking.verdicts.context import Windows
from tests.support import make_event
from tests.support import reports as history


def by_hand(account_id: int) -> dict:
    """Per (rep, UTC day): the figures counted message by message, in Python."""
    out: dict = defaultdict(
        lambda: dict.fromkeys(rollups.COUNTS, 0) | {n: [] for n in rollups.DELAYS}
    )
    for m in db.session.scalars(select(Message).where(Message.account_id == account_id)):
        row = out[(m.user_id, m.sent_at.date())]
        row["sent"] += 1
        row["open_base"] += bool(m.tracked and m.track_opens)
        row["click_base"] += bool(m.tracked and m.track_links)
    summaries = select(MessageSummary).where(
        MessageSummary.account_id == account_id, MessageSummary.sent_at.is_not(None)
    )
    for s in db.session.scalars(summaries):
        row = out[(s.user_id, s.sent_at.date())]
        opened = bool(s.opens_tracked and s.first_open_at is not None)
        row["opened"] += opened
        row["clicked"] += bool(s.links_tracked and s.clicks > 0)
        row["replied"] += s.replies > 0
        row["bounced"] += s.bounces > 0
        for v in VERDICTS:
            row[f"n_{v}"] += getattr(s, f"n_{v}")
        if opened:
            row["open_delays"].append(max(0.0, (s.first_open_at - s.sent_at).total_seconds()))
        if s.first_reply_at is not None:
            row["reply_delays"].append(max(0.0, (s.first_reply_at - s.sent_at).total_seconds()))
    return {key: _sorted(row) for key, row in out.items()}


def _sorted(row: dict) -> dict:
    return row | {n: sorted(row[n]) for n in rollups.DELAYS}


def rolled_up(account_id: int) -> dict:
    """Per (rep, day): the stored roll-ups, none stale, days left with nothing left out."""
    db.session.expire_all()
    rows = db.session.scalars(select(ReportRollup).where(ReportRollup.account_id == account_id))
    out = {}
    for r in rows:
        assert r.built == r.marks, "a stale roll-up"
        row = {n: getattr(r, n) for n in (*rollups.COUNTS, *rollups.DELAYS)}
        if any(row.values()):
            out[(r.user_id, r.day)] = _sorted(row)
    return out


def assert_same(account_id: int) -> None:
    """The roll-ups equal the count by hand (delays to the millisecond: SQLite's day arithmetic
    is in floating point, as the reports' always was)."""
    expected, got = by_hand(account_id), rolled_up(account_id)
    assert set(got) == set(expected)
    for key, row in expected.items():
        for name in rollups.COUNTS:
            assert got[key][name] == row[name], (key, name)
        for name in rollups.DELAYS:
            assert got[key][name] == pytest.approx(row[name], abs=1e-3), (key, name)


def refresh() -> None:
    rollups.refresh(db.session)
    db.session.commit()


def test_the_hand_made_history_rolls_up_to_its_counts(make_user):
    people = history.build(make_user)
    assert db.session.scalar(select(ReportRollup.marks).limit(1)) is not None, "nothing marked"
    refresh()
    for user in (people.rep, people.stranger):
        assert_same(user.account_id)


def _random_history(rng: random.Random, reps: list, sent: list) -> None:
    """Messages over ten weeks across a month's end, and hits at random delays (a few before
    sending: a skewed clock)."""
    for _ in range(40):
        rep = rng.choice(reps)
        when = history.at(1, 0, 0, month=11) + timedelta(minutes=rng.randrange(70 * 24 * 60))
        parts = {"track_opens": rng.random() > 0.2, "track_links": rng.random() > 0.3}
        sent.append(history.send(rep, when, **parts))
    for message in rng.sample(sent, len(sent) * 2 // 3):
        for _ in range(rng.randrange(1, 5)):
            kind = rng.choice(("open", "open", "click", "reply", "bounce"))
            verdict = "human" if kind in ("reply", "bounce") else rng.choice(VERDICTS)
            delay = timedelta(seconds=rng.randrange(-120, 5 * 86400))
            history.hit(message, kind, message.sent_at + delay, verdict)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_history_rolls_up_exactly_through_every_change(make_user, seed):
    rng = random.Random(seed)
    acme = [make_user(f"rep{i}@acme.test")[0] for i in range(3)]
    other = make_user("eve@evil.test", account="Evil")[0]
    sent: list = []
    _random_history(rng, [*acme, other], sent)
    db.session.commit()
    refresh()
    assert_same(acme[0].account_id)
    assert_same(other.account_id)

    # After the roll-ups are built: more hits, messages reported again at another time (a day,
    # a month away), relabelled hits; a report brings its range up to date by itself.
    _random_history(rng, acme, sent)
    for message in rng.sample([m for m in sent if m.user_id != other.id], 6):
        when = message.sent_at + timedelta(hours=rng.randrange(-800, 800))
        data = {"id": message.id, "recipients": [{"email": "ana@lead.test"}], "sent_at": when}
        user = next(u for u in acme if u.id == message.user_id)
        history.messages.register(db.session, user, data, history.TRACKER)
    opens = db.session.scalars(select(Event.id).where(Event.kind == "open")).all()
    relabel(db.session.connection(), set(rng.sample(opens, 5)), "bot", "test")
    db.session.commit()
    assert rollups.stale(db.session, acme[0].account_id)
    months = reports.report(db.session, acme[0].account_id, None, "month", date(2027, 1, 31), 4)
    assert_same(acme[0].account_id)
    _the_report_is_the_messages(acme[0].account_id, months)


def _the_report_is_the_messages(account_id: int, months: dict) -> None:
    """The team's months as counted from the messages by hand, medians included."""
    expected = by_hand(account_id)
    assert len(months["series"]) == 4 and sum(p["sent"] for p in months["series"]) > 0
    for point in months["series"]:
        first, end = point["start"].date(), point["end"].date()
        days = [r for (_, d), r in expected.items() if first <= d < end]
        assert point["sent"] == sum(r["sent"] for r in days)
        assert point["opened"] == sum(r["opened"] for r in days)
        assert point["hits"]["bot"] == sum(r["n_bot"] for r in days)
        delays = [d for r in days for d in r["reply_delays"]]
        want = round(median(delays)) if delays else None
        assert point["median_reply_seconds"] == pytest.approx(want, abs=1)


def test_a_hit_through_the_batch_writer_shows_in_the_next_report(make_user):
    rep = make_user("rep@acme.test")[0]
    message = history.send(rep, history.at(24))
    db.session.commit()
    week = reports.report(db.session, rep.account_id, rep, "week", history.DAY, 2)
    assert (week["current"]["sent"], week["current"]["opened"]) == (1, 0)
    assert not rollups.stale(db.session)

    writer = BatchWriter(db.engine, Windows(scanner=10, burst=3, self_view=120))
    opened = (history.at(24) + timedelta(hours=2)).timestamp()
    assert writer([make_event(message.kid, message.id, occurred_at=opened)]) == 1
    db.session.expire_all()
    assert rollups.stale(db.session, rep.account_id)
    week = reports.report(db.session, rep.account_id, rep, "week", history.DAY, 2)
    assert (week["current"]["opened"], week["current"]["median_open_seconds"]) == (1, 7200)
    assert not rollups.stale(db.session)


def test_gmails_sending_time_moves_the_message_to_its_day(make_user):
    rep = make_user("rep@acme.test")[0]
    message = history.send(rep, history.at(24, 23, 59))  # the rep's clock: late on the 24th
    history.hit(message, "open", history.at(25, 9))
    refresh()
    gmail = Mail("g1", "t1", {"SENT"}, history.at(25, 0, 1), {"to": "ana@lead.test"})
    confirm(message, gmail, history.at(25, 9))
    db.session.commit()
    assert rollups.stale(db.session)
    refresh()
    assert_same(rep.account_id)
    assert set(rolled_up(rep.account_id)) == {(rep.id, date(2026, 11, 25))}


def test_erasing_a_person_recomputes_their_days_at_once(make_user):
    people = history.build(make_user)
    refresh()
    account = people.rep.account_id
    before = rolled_up(account)
    assert erase_messages(db.session, account, "ana@lead.test")
    db.session.commit()
    assert not rollups.stale(db.session), "left for a later report to recompute"
    after = rolled_up(account)
    assert_same(account)
    # Ana was every message's recipient: her hits went, the messages stay sent.
    assert sum(r["sent"] for r in after.values()) == sum(r["sent"] for r in before.values())
    assert all(not r["open_delays"] and not r["reply_delays"] for r in after.values())
    assert any(r["open_delays"] for r in before.values())


def test_the_job_refreshes_what_is_stale(app, make_user):
    rep = make_user("rep@acme.test")[0]
    history.hit(history.send(rep, history.at(24)), "open", history.at(24, 10))
    db.session.commit()
    assert rollups.stale(db.session)
    assert jobs.refresh_report_rollups(app)() == 1
    assert not rollups.stale(db.session)
    assert_same(rep.account_id)
    assert jobs.refresh_report_rollups(app)() == 0


def test_every_day_of_a_period_is_in_it():
    """Roll-ups are per UTC day: every period starts and ends at a UTC midnight."""
    for period in ("day", "week", "month"):
        for p in periods.series(period, date(2026, 3, 29), 14):
            assert p.start.tzinfo == UTC and (p.start.hour, p.start.minute) == (0, 0)
            assert (p.end.hour, p.end.minute, p.end.second) == (0, 0, 0)
