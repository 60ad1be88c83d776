"""The batch writer against a real database: idempotency, tenancy, summaries, context rules."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from server.accounts import users as accounts
from server.extensions import db
from server.models import Event, Message, MessageSummary, PendingHit, SelfView
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from tests.support import make_event

NOW = time.time()


@pytest.fixture
def writer(app):
    return BatchWriter(db.engine, Windows(scanner=10, burst=3, self_view=120))


def hit(kid, kind="open", verdict="human", at=NOW, url=None):
    # A proxy open here is Gmail's, as the sender's own view would fetch it.
    reasons = "gmail-image-proxy" if verdict == "proxy" else ""
    return make_event(
        kid, kind=kind, verdict=verdict, occurred_at=at, link_url=url, reasons=reasons
    )


def summary(mid="m" * 22) -> MessageSummary:
    db.session.expire_all()
    return db.session.get(MessageSummary, mid)


def register(user, mid="m" * 22, sent_at=NOW - 3600, links=0):
    from server.models import Link

    message = Message(id=mid, account_id=user.account_id, user_id=user.id, kid="k")
    message.sent_at = datetime.fromtimestamp(sent_at, UTC)
    message.links = [Link(position=i, url=f"https://x.test/{i}") for i in range(links)]
    db.session.add(message)
    db.session.commit()


@pytest.fixture
def reported(rep):
    """The rep's message "m" * 22, reported an hour ago; returns the rep."""
    register(rep[0])
    return rep[0]


def test_replaying_a_batch_changes_nothing(writer, kid, reported):
    batch = [hit(kid), hit(kid, verdict="proxy", at=NOW + 5), hit(kid, verdict="machine")]
    assert writer(batch) == 3
    assert writer(batch) == 0
    assert writer(batch[:1] + batch[:1]) == 0
    s = summary()
    assert db.session.query(Event).count() == 3
    assert (s.opens, s.n_human, s.n_proxy, s.n_machine) == (2, 1, 1, 1)
    assert s.status == "opened"
    assert s.first_open_at.timestamp() == pytest.approx(NOW)
    assert s.last_open_at.timestamp() == pytest.approx(NOW + 5)


def test_a_click_implies_an_open(writer, kid, reported):
    writer([hit(kid, kind="click", url="https://x.test/", at=NOW + 9)])
    s = summary()
    assert (s.status, s.opens, s.clicks) == ("clicked", 0, 1)
    assert s.first_open_at.timestamp() == pytest.approx(NOW + 9)


def test_a_bounce_keeps_its_time_and_is_the_status_only_while_nothing_real_came(
    writer, kid, reported
):
    def bounce(at):
        return make_event(
            kid, kind="bounce", verdict="machine", method="", occurred_at=at,
            reasons="gmail-delivery-failure", account_id=reported.account_id,
        )  # fmt: skip

    writer([bounce(NOW + 20), bounce(NOW + 10), hit(kid, verdict="scanner", at=NOW + 30)])
    s = summary()
    assert (s.status, s.bounces, s.opens) == ("bounced", 2, 0)
    assert s.last_bounce_at.timestamp() == pytest.approx(NOW + 20)
    assert s.last_open_at is None
    # Another recipient's copy was read: the message arrived somewhere.
    writer([hit(kid, at=NOW + 40)])
    s = summary()
    assert s.status == "opened" and s.last_bounce_at.timestamp() == pytest.approx(NOW + 20)


def test_first_and_last_times_come_from_real_hits_whatever_the_batch_order(writer, kid, reported):
    batch = [
        hit(kid, at=NOW + 30),
        hit(kid, verdict="machine", at=NOW - 60),  # earlier, but no reader's open
        hit(kid, kind="click", url="https://x.test/", at=NOW + 10),
        hit(kid, at=NOW + 20),
        hit(kid, kind="click", url="https://x.test/", at=NOW + 40),
    ]
    writer(batch)
    s = summary()
    assert (s.opens, s.clicks, s.n_human, s.n_machine) == (2, 2, 4, 1)
    assert s.first_open_at.timestamp() == pytest.approx(NOW + 10)
    assert s.last_open_at.timestamp() == pytest.approx(NOW + 30)
    assert s.last_click_at.timestamp() == pytest.approx(NOW + 40)
    # Hits carry no duration column: it is stored as NULL, and every field the hit had is kept.
    stored = db.session.query(Event).order_by(Event.occurred_at).all()
    assert [e.duration for e in stored] == [None] * 5
    assert [e.verdict for e in stored] == ["machine", "human", "human", "human", "human"]
    assert stored[1].link_url == "https://x.test/"


def test_machine_activity_is_kept_but_not_an_open(writer, kid, reported):
    writer([hit(kid, verdict=v) for v in ("machine", "scanner", "prefetch", "bot", "self")])
    s = summary()
    assert (s.status, s.opens, s.first_open_at) == ("sent", 0, None)
    assert sum(s.counts().values()) == 5


def test_hits_of_unknown_keys_are_not_recorded(writer, kid):
    assert writer([hit("nosuchk1")]) == 0
    assert db.session.query(Event).count() == 0


@pytest.mark.parametrize("switch", ["account", "rep", "deactivated"])
def test_nothing_is_recorded_while_tracking_is_off(writer, kid, rep, switch):
    user = rep[0]
    if switch == "account":
        user.account.tracking_enabled = False
    elif switch == "rep":
        user.tracking_enabled = False
    else:
        user.active = False
    db.session.commit()
    assert writer([hit(kid)]) == 0
    assert summary() is None


def test_hits_before_the_message_is_reported_are_kept(writer, kid, rep):
    assert writer([hit(kid, at=NOW - 60)]) == 0
    assert summary() is None and db.session.query(Event).count() == 0  # nobody's data yet
    register(rep[0])
    assert writer([]) == 1  # the next batch takes it back, now that its message exists
    assert summary().opens == 1
    assert summary().account_id == rep[0].account_id
    assert db.session.query(PendingHit).count() == 0


def test_another_accounts_key_counts_nothing_for_a_message(writer, kid, reported, make_user):
    outsider = make_user("mallory@globex.test", "Globex")[0]
    theirs = accounts.current_signing_key(db.session, outsider).kid
    db.session.commit()
    forged = [hit(theirs), hit(theirs, kind="click", url="https://x.test/")]
    assert writer(forged) == 0
    assert summary() is None and db.session.query(Event).count() == 0
    assert writer.dropped == {"not the message owner's": 2}
    assert writer([hit(kid)]) == 1
    assert (summary().status, summary().account_id) == ("opened", reported.account_id)


def test_a_colleagues_key_counts_nothing_for_a_reps_message(writer, reported, make_user):
    colleague = make_user("ida@acme.test")[0]
    theirs = accounts.current_signing_key(db.session, colleague).kid
    db.session.commit()
    assert writer([hit(theirs)]) == 0
    assert summary() is None


def test_an_internal_event_counts_only_for_its_own_accounts_message(writer, reported, make_user):
    outsider = make_user("mallory@globex.test", "Globex")[0]

    def reply(account_id, mid="m" * 22):
        return make_event("", mid, kind="reply", account_id=account_id)

    assert writer([reply(outsider.account_id), reply(reported.account_id, "n" * 22)]) == 0
    assert writer.dropped == {"not the message owner's": 1, "unknown message": 1}
    assert db.session.query(PendingHit).count() == 0
    assert writer([reply(reported.account_id)]) == 1
    assert summary().status == "replied"


def test_a_dropped_hit_is_logged_without_naming_it(writer, kid, reported, make_user, caplog):
    outsider = make_user("mallory@globex.test", "Globex")[0]
    theirs = accounts.current_signing_key(db.session, outsider).kid
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="server.tracking.ingest"):
        writer([hit(theirs)])
    [record] = caplog.records
    assert record.getMessage() == "dropped hits: 1 not the message owner's"


def test_hits_seconds_after_sending_are_a_scanner(writer, kid, rep):
    register(rep[0], sent_at=NOW - 2)
    writer([hit(kid), hit(kid, verdict="proxy")])
    verdicts = sorted(e.verdict for e in db.session.query(Event))
    assert verdicts == ["proxy", "scanner"]
    assert summary().opens == 1


def test_hits_near_a_self_view_are_the_sender(writer, kid, rep):
    register(rep[0])
    db.session.add(
        SelfView(message_id="m" * 22, user_id=rep[0].id, viewed_at=datetime.fromtimestamp(NOW, UTC))
    )
    db.session.commit()
    writer([hit(kid, verdict="proxy", at=NOW + 1), hit(kid, at=NOW + 3600)])
    s = summary()
    assert (s.n_self, s.n_human, s.opens) == (1, 1, 1)
    view = db.session.query(SelfView).one()
    explained = db.session.query(Event).filter_by(verdict="self").one()
    assert view.claimed_event_id == explained.id


def test_a_view_that_explained_a_hit_explains_no_later_one(writer, kid, rep):
    register(rep[0])
    at = datetime.fromtimestamp(NOW, UTC)
    db.session.add(SelfView(message_id="m" * 22, user_id=rep[0].id, viewed_at=at))
    db.session.commit()
    writer([hit(kid, verdict="proxy", at=NOW + 1)])
    writer([hit(kid, verdict="proxy", at=NOW + 2)])
    s = summary()
    assert (s.n_self, s.n_proxy, s.opens) == (1, 1, 1)


def test_opens_before_a_view_stay_real(writer, kid, rep):
    register(rep[0])
    writer([hit(kid, verdict="proxy", at=NOW - 3), hit(kid, verdict="proxy", at=NOW - 60)])
    at = datetime.fromtimestamp(NOW, UTC)
    db.session.add(SelfView(message_id="m" * 22, user_id=rep[0].id, viewed_at=at))
    db.session.commit()
    writer([hit(kid, kind="click", url="https://x.test/0", at=NOW + 5)])
    s = summary()
    assert (s.n_self, s.n_proxy, s.opens) == (0, 2, 2)


def test_a_burst_across_links_is_a_scanner_even_across_batches(writer, kid, rep):
    register(rep[0], links=3)
    writer([hit(kid, kind="click", url="https://x.test/0", at=NOW)])
    assert summary().clicks == 1
    writer(
        [
            hit(kid, kind="click", url="https://x.test/1", at=NOW + 0.4),
            hit(kid, kind="click", url="https://x.test/2", at=NOW + 0.8),
        ]
    )
    db.session.expire_all()
    assert {e.verdict for e in db.session.query(Event)} == {"scanner"}
    assert all("link-burst" in e.reason_list for e in db.session.query(Event))
    s = summary()
    assert (s.clicks, s.n_scanner, s.status) == (0, 3, "sent")


def test_a_person_clicking_links_minutes_apart_is_not_a_burst(writer, kid, rep):
    register(rep[0], links=3)
    writer([hit(kid, kind="click", url=f"https://x.test/{i}", at=NOW + 60 * i) for i in range(3)])
    assert summary().clicks == 3


def test_a_replay_mixing_stored_and_new_events_counts_only_the_new(writer, kid, reported):
    stored, new = hit(kid), hit(kid, verdict="proxy")
    assert writer([stored]) == 1
    assert writer([stored, new]) == 1
    s = summary()
    assert (s.opens, s.n_human, s.n_proxy) == (2, 1, 1)
