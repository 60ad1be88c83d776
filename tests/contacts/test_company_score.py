"""The one engagement formula, worked out by hand: exact values for contacts, and a company's
score as the same formula over its people's messages (a shared mail counting their share)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from server.contacts import engagement
from server.contacts import service as contacts
from server.contacts.engagement import Hit, score
from server.extensions import db
from tests.support import reports as history

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def by_hand(raw: float) -> int:
    return round(100 * (1 - math.exp(-raw / 10)))


def test_exact_values_of_fresh_and_decayed_hits():
    fresh = {k: score([Hit(k, "human", NOW, "m")], NOW) for k in ("reply", "click", "open")}
    assert fresh == {"reply": 63, "click": 26, "open": 10}  # 1 - e^(-w/10) for w = 10, 3, 1
    # A fortnight halves the weight: a 14-day-old reply weighs 5 → 39; 28 days: 2.5 → 22.
    assert score([Hit("reply", "proxy", NOW - timedelta(days=14), "m")], NOW) == by_hand(5) == 39
    assert score([Hit("reply", "human", NOW - timedelta(days=28), "m")], NOW) == 22
    # Four opens of one mail: only three count (3 → 26); machine opens never.
    opens = [Hit("open", "human", NOW, "m")] * 4 + [Hit("open", "machine", NOW, "n")] * 9
    assert score(opens, NOW) == by_hand(3) == 26


def test_a_companys_score_is_its_peoples_messages(make_user):
    rep, _ = make_user("rep@acme.test")
    alone = history.send(rep, NOW - timedelta(days=1), to="ana@lead.test")
    history.hit(alone, "reply", NOW)  # weight 10, fresh
    history.hit(alone, "open", NOW, "machine")  # nothing
    shared = history.send(
        rep, NOW - timedelta(days=20), "ana@lead.test", "bo@lead.test", "carl@other.test"
    )
    history.hit(shared, "click", NOW - timedelta(days=14))  # 3 x 1/2, shared by three people
    db.session.commit()

    ana = contacts.find_contact(db.session, rep.account_id, "ana@lead.test")
    bo = contacts.find_contact(db.session, rep.account_id, "bo@lead.test")
    carl = contacts.find_contact(db.session, rep.account_id, "carl@other.test")
    people = engagement.scores(db.session, rep.account_id, [ana.id, bo.id, carl.id], None, NOW)
    # Ana: 10 + 1.5/3 = 10.5 → 65; Bo and Carl: 1.5/3 = 0.5 → 5.
    assert {c: s for c, (s, _) in people.items()} == {ana.id: 65, bo.id: 5, carl.id: 5}
    assert by_hand(10.5) == 65 and by_hand(0.5) == 5

    lead, other = ana.company_id, carl.company_id
    assert lead == bo.company_id and lead != other
    firms = engagement.company_scores(db.session, rep.account_id, [lead, other], None, NOW)
    # lead.test: the reply (10) and two thirds of the click (1.5 x 2/3 = 1) → 11 → 67.
    assert firms[lead] == (by_hand(11), NOW) == (67, NOW)
    assert firms[other] == (5, NOW - timedelta(days=14))


def test_a_rep_sees_their_own_messages_in_a_companys_score(make_user):
    rep, _ = make_user("rep@acme.test")
    other, _ = make_user("other@acme.test")
    mine = history.send(rep, NOW - timedelta(days=1), to="ana@lead.test")
    history.hit(mine, "click", NOW)
    theirs = history.send(other, NOW - timedelta(days=1), to="bo@lead.test")
    history.hit(theirs, "reply", NOW)
    db.session.commit()
    firm = contacts.find_contact(db.session, rep.account_id, "ana@lead.test").company_id
    assert engagement.company_scores(db.session, rep.account_id, [firm], rep.id, NOW)[firm][0] == 26
    whole = engagement.company_scores(db.session, rep.account_id, [firm], None, NOW)[firm][0]
    assert whole == by_hand(13) == 73
