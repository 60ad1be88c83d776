"""The headline erasure test: one person is put in every table (as a rep of the account and as a
lead, their address in every encoding wherever a table holds free text or URLs), erased through
the data-request path, and then no column of any table, nor the SQLite file on disk, holds them
in any form."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from server.common import mentions
from server.extensions import db
from server.models import AuditEntry, FollowUp, GmailMailbox, Message, MessageSummary, User
from server.privacy import data_requests
from tests.common.test_personal_data_registry import NOT_PERSONAL
from tests.support.google import with_google
from tests.support.person import GOOGLE_SUB, NAME, PERSON, seed


@pytest.fixture
def settings(settings):
    """A Google client, so the person can have a connected mailbox."""
    return with_google(settings)


def _needles() -> set[str]:
    """The person in every form: address encodings, their name, their Google account id."""
    return mentions.forms({PERSON}) | {NAME, GOOGLE_SUB, "Quill Studio"}


def _places(needles: set[str]) -> dict[str, set[str]]:
    """table.column -> the needles found there, reading every row of every table."""
    folded = {n.lower() for n in needles}
    found: dict[str, set[str]] = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    value = str(value).lower()
                    hits = {n for n in folded if n in value}
                    if hits:
                        found.setdefault(f"{table.name}.{column}", set()).update(hits)
    return found


def _sqlite_file(needles: set[str]) -> set[str]:
    """The needles still in the database file's bytes, after the WAL is written back."""
    with db.engine.connect() as conn:
        busy, _, _ = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        assert busy == 0, "a reader held the WAL: the checkpoint did not finish"
    path = Path(db.engine.url.database)
    raw = b"".join(p.read_bytes().lower() for p in (path, Path(f"{path}-wal")) if p.exists())
    return {n for n in needles if n.lower().encode() in raw}


def test_an_erased_person_is_in_no_table_and_no_file(app, admin, google):
    made = seed(app, admin, google)
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    empty = [t.name for t in db.metadata.sorted_tables
             if not db.session.scalar(select(func.count()).select_from(t))]  # fmt: skip
    assert empty == [], "the seed reaches every table"
    before = _places(_needles())
    assert {"links.url", "events.link_url", "breaches.description", "gmail_mailboxes.google_sub",
            "pending_hits.payload", "job_runs.error", "users.email"} <= set(before)  # fmt: skip
    if db.engine.dialect.name == "sqlite":
        # Written back to the file first, as a long-running server's checkpoints would have.
        assert _sqlite_file({PERSON, GOOGLE_SUB}) == {PERSON, GOOGLE_SUB}

    data_requests.erase(db.session, "k", admin, PERSON)
    db.session.commit()
    db.session.expire_all()

    assert _places(_needles()) == {}
    if db.engine.dialect.name == "sqlite":
        assert _sqlite_file(_needles()) == set()
    # The audit trail is append-only: nothing of it went; it names the user by id only.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) > audit_before
    user = db.session.get(User, made["user"].id)
    assert (user.email, user.active) == (f"user-{user.id}@anonymized.invalid", False)
    assert db.session.scalar(select(func.count()).select_from(GmailMailbox)) == 0
    # The reminder the person set as a rep, and the one awaiting their reply as a lead.
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    assert google.revoked, "the mailbox's token was revoked at Google"
    # What stays of the messages names nobody; the summaries are of the events that remain.
    assert db.session.get(MessageSummary, made["own"].id) is None
    assert db.session.get(MessageSummary, made["shared"].id) is None
    kept = db.session.get(MessageSummary, made["kept"].id)
    assert (kept.opens, kept.clicks, kept.last_click_at) == (1, 0, None)
    own, shared = (
        db.session.get(Message, made["own"].id),
        db.session.get(Message, made["shared"].id),
    )
    assert (own.subject, own.gmail_thread_id, own.rfc_message_id) == ("", None, None)
    assert (shared.subject, shared.gmail_thread_id) == ("", "t2")
    assert [r.email for r in shared.recipients] == ["bo.lindqvist@example.test"]
    assert set(NOT_PERSONAL) <= {t.name for t in db.metadata.sorted_tables}
