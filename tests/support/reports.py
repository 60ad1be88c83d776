"""A hand-made history of sent messages and hits whose report figures are worked out by hand
in tests/insights/test_reports.py: two reps of Acme, one rep of another account.

The week of 2026-11-23 (Monday) is the current one for `DAY`, 2026-11-16's the previous one.
Hits go through the summaries' own upsert, as the batch writer stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from server.common import signing
from server.extensions import db
from server.messages import service as messages
from server.models import Event
from server.tracking.summaries import add_to_summaries

DAY = date(2026, 11, 25)
TRACKER = messages.Tracker("http://track.test", ("test-link-secret",))


def at(day: int, hour: int = 9, minute: int = 0, month: int = 11) -> datetime:
    """A time in November 2026 (UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def send(user, when: datetime, to: str = "ana@lead.test", *also: str, **parts):
    """A message the user sent at `when` to `to` (and `also`)."""
    recipients = [{"email": address} for address in (to, *also)]
    data = {"subject": "Hello", "recipients": recipients, "sent_at": when, **parts}
    message, _ = messages.register(db.session, user, data, TRACKER)
    return message


def hit(message, kind: str, when: datetime, verdict: str = "human") -> None:
    """An event on the message, added to its summary as the batch writer does."""
    event = {
        "id": signing.new_message_id(),
        "account_id": message.account_id,
        "message_id": message.id,
        "kid": message.kid,
        "kind": kind,
        "verdict": verdict,
    }
    db.session.add(Event(**event, occurred_at=when))
    db.session.flush()
    add_to_summaries(db.session.connection(), [event | {"occurred_at": when.timestamp()}])


@dataclass
class History:
    """The people of the history."""

    rep: object
    other_rep: object
    admin: object
    stranger: object


def build(make_user) -> History:
    """Create the people, messages and hits; committed."""
    rep, _ = make_user("rep@acme.test")
    other, _ = make_user("other@acme.test")
    admin, _ = make_user("boss@acme.test", admin=True)
    stranger, _ = make_user("eve@evil.test", account="Evil")
    # Current week, rep.
    m1 = send(rep, at(23))
    hit(m1, "open", at(23) + timedelta(seconds=5), "machine")  # Apple's prefetch: no open
    hit(m1, "open", at(23, 10))  # first real open after 1 h
    hit(m1, "click", at(23, 10, 5))
    hit(m1, "open", at(23, 10, 6), "self")
    hit(m1, "reply", at(23, 12))  # reply after 3 h
    m2 = send(rep, at(24))
    hit(m2, "open", at(24) + timedelta(seconds=2), "machine")
    hit(m2, "click", at(24) + timedelta(seconds=3), "scanner")  # never a click
    m3 = send(rep, at(24, 10))
    hit(m3, "open", at(24, 12), "proxy")  # Gmail's proxy is a real open, after 2 h
    m4 = send(rep, at(25, 8))
    hit(m4, "bounce", at(25, 8, 1), "machine")
    m5 = send(rep, at(25), track_opens=False)  # no pixel: not in the open rate
    hit(m5, "click", at(25, 9, 30))
    send(rep, at(30, 0))  # next week: in no period of the report
    # Previous week, rep: one open after 30 min; one message at the week's first instant.
    p1 = send(rep, at(17))
    hit(p1, "open", at(17, 9, 30))
    send(rep, at(18))
    send(rep, at(16, 0))
    # Current week, the other rep: open after 4 h, reply after a day.
    b1 = send(other, at(24))
    hit(b1, "open", at(24, 13))
    hit(b1, "reply", at(25, 9))
    # Another account, same week: never in Acme's figures.
    e1 = send(stranger, at(24), to="ana@lead.test")
    for minute in range(3):
        hit(e1, "open", at(24, 9, 10 + minute))
    hit(e1, "reply", at(24, 11))
    db.session.commit()
    return History(rep, other, admin, stranger)
