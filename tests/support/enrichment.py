"""Helpers for the enrichment job's tests: a settable clock, a policy, sending mail, and reading
a contact (with its enrichment row) again from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.contacts import enrichment
from server.contacts import service as contacts
from server.extensions import db
from server.messages import service as messages
from server.models import Contact

TRACKER = messages.Tracker("http://track.test", ("test-link-secret",))
POLICY = enrichment.Policy(api_key="sk_test", ttl=timedelta(days=30), rate_per_minute=60)


class Clock:
    """A settable clock, starting at the real time. The `clock` fixture also makes mail sent in
    the test request its lookups at this clock's time: compared with the real time instead, rows
    were not yet due whenever a busy machine took longer than the clock's lead to send the mail."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        """Move the clock on."""
        self.now += timedelta(**delta)


def send(user, *addresses):
    """Register a tracked message from `user` to `addresses` (each becomes a contact)."""
    data = {"subject": "Hi", "recipients": [{"email": a} for a in addresses]}
    messages.register(db.session, user, data, TRACKER)
    db.session.commit()


def contact_of(user, email) -> Contact | None:
    """The contact at `email` in `user`'s account, read again from the database (the session's
    copies are expired first, so changes committed elsewhere show); its `.enrichment` is the row."""
    db.session.expire_all()
    return contacts.find_contact(db.session, user.account_id, email)
