"""Engagement: the score's ordering on constructed histories, and a contact's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.common import signing
from server.contacts import engagement
from server.contacts import service as contacts
from server.contacts.engagement import Hit, score
from server.extensions import db
from server.messages import service as messages
from server.models import Event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TRACKER = messages.Tracker("http://track.test", ("test-link-secret",))


def hit(kind, days_ago=1.0, verdict="human", message="m1"):
    return Hit(kind, verdict, NOW - timedelta(days=days_ago), message)


def test_reply_beats_click_beats_open_beats_nothing():
    reply, click, opened = (score([hit(k)], NOW) for k in ("reply", "click", "open"))
    assert reply > click > opened > score([], NOW) == 0


def test_recent_beats_old_and_recency_can_outweigh_kind():
    assert score([hit("click", 1)], NOW) > score([hit("click", 30)], NOW)
    assert score([hit("click", 1)], NOW) > score([hit("reply", 60)], NOW)
    # Within the same fortnight the kind decides.
    assert score([hit("reply", 10)], NOW) > score([hit("click", 1)], NOW)


def test_machine_activity_counts_for_nothing():
    noise = [
        hit("open", verdict=v, message=f"m{i}")
        for i, v in enumerate(["machine", "scanner", "bot", "prefetch", "self"] * 10)
    ]
    assert score(noise, NOW) == 0
    assert score([*noise, hit("open", verdict="proxy")], NOW) == score([hit("open")], NOW)
    assert score([hit("click", verdict="scanner")], NOW) == 0


def test_rereading_one_mail_is_capped_below_a_click_and_open():
    many = [hit("open", days_ago=0.1 * i) for i in range(20)]
    assert score(many, NOW) == score(many[:3], NOW)
    assert score(many, NOW) < score([hit("click"), hit("open")], NOW)
    assert score([hit("open", message=f"m{i}") for i in range(5)], NOW) > score(many, NOW)


def test_a_shared_mail_counts_a_share():
    alone = score([hit("click")], NOW, {"m1": 1})
    shared = score([hit("click")], NOW, {"m1": 4})
    assert alone > shared > 0


def test_the_score_stays_within_0_and_100():
    lots = [hit("reply", 0, message=f"m{i}") for i in range(500)]
    assert score(lots, NOW) == 100
    assert score([hit("open", 365)], NOW) == 0  # a year-old open has decayed away


def add_event(message, kind, at, verdict="human", **fields):
    db.session.add(
        Event(
            id=signing.new_message_id(),
            account_id=message.account_id,
            message_id=message.id,
            kid=message.kid,
            kind=kind,
            occurred_at=at,
            verdict=verdict,
            **fields,
        )
    )


def test_timeline_counts_and_messages_respect_the_viewers_role(make_user):
    rep, _ = make_user("rep@acme.test")
    other, _ = make_user("other@acme.test")
    admin, _ = make_user("boss@acme.test", admin=True)
    now = datetime.now(UTC)
    mine, _ = messages.register(
        db.session, rep, {"subject": "Pricing", "recipients": [{"email": "ana@acme.com"}]}, TRACKER
    )
    theirs, _ = messages.register(
        db.session,
        other,
        {"subject": "Demo", "recipients": [{"email": "Ana@Acme.com"}, {"email": "bo@acme.com"}]},
        TRACKER,
    )
    add_event(mine, "open", now - timedelta(hours=3), region="England", device_type="desktop")
    add_event(mine, "open", now - timedelta(hours=4), verdict="machine")
    add_event(mine, "click", now - timedelta(hours=2), link_url="https://acme.example/pricing")
    add_event(mine, "open", now - timedelta(hours=1), verdict="self")
    add_event(theirs, "reply", now - timedelta(minutes=30))
    db.session.commit()
    ana = contacts.find_contact(db.session, rep.account_id, "ana@acme.com")

    block, sent = engagement.engagement(db.session, rep.account_id, ana.id, rep.id, now)
    assert (block["opens"], block["clicks"], block["replies"]) == (1, 1, 0)
    assert [e["kind"] for e in block["timeline"]] == ["click", "open", "open"]  # no self view
    assert block["timeline"][0]["url"] == "https://acme.example/pricing"
    assert block["timeline"][1]["region"] == "England"
    assert block["timeline"][2]["verdict"] == "machine"
    assert [m["subject"] for m in sent] == ["Pricing"]

    full, sent = engagement.engagement(db.session, admin.account_id, ana.id, None, now)
    assert full["replies"] == 1 and full["timeline"][0]["subject"] == "Demo"
    assert sorted(m["subject"] for m in sent) == ["Demo", "Pricing"]
    assert full["score"] > block["score"] > 0
    scored = engagement.scores(db.session, admin.account_id, [ana.id], None, now)
    assert scored[ana.id] == (full["score"], now - timedelta(minutes=30))


def test_a_bounce_is_counted_and_shown_but_scores_nothing(make_user):
    rep, _ = make_user("rep@acme.test")
    now = datetime.now(UTC)
    sent, _ = messages.register(
        db.session, rep, {"subject": "Hello", "recipients": [{"email": "gone@acme.com"}]}, TRACKER
    )
    add_event(sent, "bounce", now - timedelta(minutes=5), verdict="machine")
    db.session.commit()
    gone = contacts.find_contact(db.session, rep.account_id, "gone@acme.com")

    block, rows = engagement.engagement(db.session, rep.account_id, gone.id, rep.id, now)
    assert (block["bounces"], block["score"]) == (1, 0)
    assert [e["kind"] for e in block["timeline"]] == ["bounce"]
    assert rows[0]["bounces"] == 0  # no summary yet: the sink writes those


def test_the_timeline_hides_a_proxys_location_like_the_message_api(make_user):
    rep, _ = make_user("rep@acme.test")
    now = datetime.now(UTC)
    sent, _ = messages.register(
        db.session, rep, {"subject": "Hi", "recipients": [{"email": "ana@acme.com"}]}, TRACKER
    )
    add_event(sent, "open", now - timedelta(hours=2), verdict="proxy", region="California")
    add_event(sent, "open", now - timedelta(hours=1), region="Catalonia", device_type="mobile")
    db.session.commit()
    ana = contacts.find_contact(db.session, rep.account_id, "ana@acme.com")

    block, _ = engagement.engagement(db.session, rep.account_id, ana.id, rep.id, now)
    regions = [(e["verdict"], e["region"], e["device"]) for e in block["timeline"]]
    assert regions == [("human", "Catalonia", "mobile"), ("proxy", None, None)]
    scored = engagement.scores(db.session, rep.account_id, [ana.id], rep.id, now)
    assert scored[ana.id] == (block["score"], now - timedelta(hours=1))
