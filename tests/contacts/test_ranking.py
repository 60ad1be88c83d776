"""Hot leads: contacts sorted and filtered by score, last activity and company, scoped to what
the viewer may see, and cheap for 10,000 contacts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from server.accounts import users as accounts
from server.contacts import ranking
from server.contacts import service as contacts
from server.extensions import db
from server.models import Contact, ContactAddress, Event, Message, Recipient
from tests.support.tracked import Hit, tracked


@pytest.fixture
def leads(make_user):
    """A rep's leads: hot (a reply and clicks), warm (opens), cold (an old open), one only a
    scanner touched, one never mailed; and a colleague's lead the rep's scores never see."""
    rep, _ = make_user("rep@acme.test", token=False)
    colleague, _ = make_user("nina@acme.test", token=False)
    admin, _ = make_user("boss@acme.test", admin=True, token=False)
    tracked(rep, "hot@zeta.test", "A", [Hit("reply", 3000), Hit("click", 4000, link="https://x/")])
    tracked(rep, "warm@alpha.test", "B", [Hit("open", 60), Hit("open", 120)])
    tracked(rep, "cold@beta.test", "C", [Hit("open", 120 * 86400)], sent_ago=130 * 86400)
    tracked(rep, "scanned@gamma.test", "D", [Hit("open", 30, verdict="scanner")])
    contacts.upsert_contact(db.session, rep.account_id, "never@delta.test")
    tracked(colleague, "theirs@omega.test", "E", [Hit("reply", 10)])
    db.session.commit()
    return rep, admin


def ranked(user, **order):
    now = datetime.now(UTC)
    limit, offset = order.pop("limit", 50), order.pop("offset", 0)
    page, total, scores = ranking.ranked(
        db.session, user, now, order.pop("q", ""), ranking.Order(**order), limit, offset
    )
    return [c.email for c in page], total, scores


def test_sort_by_score_puts_hot_leads_first_and_the_rest_after(app, leads):
    rep, admin = leads
    emails, total, scores = ranked(rep, sort="score")
    assert emails[:3] == ["hot@zeta.test", "warm@alpha.test", "cold@beta.test"]
    # Nothing scored: by address, after every scored contact.
    assert emails[3:] == [
        "never@delta.test",
        "scanned@gamma.test",
        "theirs@omega.test",
    ]
    assert total == 6
    hot = [c for c in emails if scores[_id(c)][0] > 0]
    assert hot == ["hot@zeta.test", "warm@alpha.test"]  # the old open has decayed to 0
    # The admin scores the whole account's mail: the colleague's lead replied.
    assert ranked(admin, sort="score", min_score=1)[0] == [
        "hot@zeta.test",
        "theirs@omega.test",
        "warm@alpha.test",
    ]


def _id(email: str) -> int:
    return db.session.query(Contact.id).filter_by(email=email).scalar()


def test_pages_run_across_the_scored_and_the_rest(app, leads):
    rep, _ = leads
    everyone = ranked(rep, sort="score")[0]
    pages = [ranked(rep, sort="score", limit=2, offset=o)[0] for o in (0, 2, 4)]
    assert [email for page in pages for email in page] == everyone


def test_last_activity_company_and_filters(app, leads):
    rep, _ = leads
    assert ranked(rep, sort="last_activity")[0][:3] == [
        "warm@alpha.test",
        "hot@zeta.test",
        "cold@beta.test",
    ]
    assert ranked(rep, sort="company")[0][:3] == [
        "warm@alpha.test",
        "cold@beta.test",
        "never@delta.test",
    ]
    assert ranked(rep, sort="score", min_score=1)[:2] == (["hot@zeta.test", "warm@alpha.test"], 2)
    assert ranked(rep, sort="email", active_days=1)[0] == ["hot@zeta.test", "warm@alpha.test"]
    assert ranked(rep, company="ALPH")[0] == ["warm@alpha.test"]
    assert ranked(rep, sort="score", company="zeta", q="hot")[0] == ["hot@zeta.test"]


def test_ten_thousand_contacts_are_ranked_in_a_bounded_number_of_queries(app, make_user):
    rep, _ = make_user(token=False)
    kid = accounts.current_signing_key(db.session, rep).kid
    account, now = rep.account_id, datetime.now(UTC)
    n, active = 10_000, 1_500
    db.session.execute(
        insert(Contact),
        [
            {
                "account_id": account,
                "email": f"lead{i:05d}@co.test",
                "email_display": f"lead{i:05d}@co.test",
            }
            for i in range(n)
        ],
    )
    ids = dict(db.session.query(Contact.email, Contact.id).filter_by(account_id=account).all())
    db.session.execute(
        insert(ContactAddress),
        [{"account_id": account, "email": e, "contact_id": cid} for e, cid in ids.items()],
    )
    mids = [f"m{i:021d}" for i in range(active)]
    db.session.execute(
        insert(Message),
        [
            {"id": m, "account_id": account, "user_id": rep.id, "kid": kid, "subject": "s"}
            for m in mids
        ],
    )
    db.session.execute(
        insert(Recipient),
        [{"message_id": m, "email": f"lead{i:05d}@co.test"} for i, m in enumerate(mids)],
    )
    db.session.execute(
        insert(Event),
        [
            {
                "id": f"{time.time_ns():x}{i:010d}",
                "account_id": account,
                "message_id": m,
                "kind": "open",
                "verdict": "human",
                "occurred_at": now - timedelta(hours=i % 500),
            }
            for i, m in enumerate(mids)
        ],
    )
    db.session.commit()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        emails, total, scores = ranked(rep, sort="score", limit=50, offset=0)
        elapsed = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert total == n and emails[0] == "lead00000@co.test"  # the newest open scores most
    assert [scores[ids[e]][0] for e in emails] == sorted(
        (scores[ids[e]][0] for e in emails), reverse=True
    )
    # One query for the scored contacts, three per chunk of scores, then the page and the rest.
    chunks = -(-active // ranking.CHUNK)
    assert len(statements) <= 3 * chunks + 8, len(statements)
    print(f"ranked {n} contacts ({active} scored) in {elapsed:.2f} s, {len(statements)} queries")
