"""Gmail sync: confirm reported messages, and turn replies and bounces into events.

One run reads `users.history.list` from the mailbox's stored history id (a mailbox without
changes costs that one call), fetches the new messages' headers in batches (gmail.metadata
gives headers and labels, never bodies) and then:

- a message the rep sent is matched to a reported one by Gmail id, RFC Message-ID, thread and
  subject, or subject, time and recipients; the match is confirmed with Gmail's ids, its
  Message-ID, its recipients and the time Gmail sent it; an unmatched one is adopted by the pixel
  in its body when the grant allows reading bodies (adopt.py);
- a message from a recipient of a tracked message (under any spelling their contact is known
  by), in its thread or naming it in In-Reply-To/References (Gmail files some replies in a new
  thread), is a `reply` to it; an automatic answer (out of office: Auto-Submitted, X-Autoreply,
  X-Autorespond, X-Auto-Response-Suppress, Precedence bulk/junk/auto_reply/list) is an
  `auto_reply`, kept but not counted as a reply; a message from anyone else (a colleague) is
  neither. A delivery-failure notice is a `bounce` (matched by thread, In-Reply-To/References or
  X-Failed-Recipients); a delay notice (delivery still being tried) is not.

With tracking switched off for the account or the rep, a run reads and records nothing.

An event's id is the time it was recorded and a key made from the mailbox and the Gmail message
id; a sync drops the events whose key is already stored (engagement.unrecorded), so running a
sync again never counts anything twice (the sync lock keeps two from running at once). A reply
ends the follow-up reminders of its thread set before it (messages/follow_ups.py). A stored history
id Google no longer knows (404) means a full resync: the tracked threads of the last 30 days and
the latest sent messages, then the profile's current history id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.gmail import adopt as gmail_adopt
from server.gmail.client import GmailApiError, GmailClient
from server.gmail.engagement import engagement, unrecorded
from server.gmail.mail import Mail, confirm, subject_key
from server.messages import follow_ups
from server.messages.service import Tracker
from server.models import GmailMailbox, Message

log = logging.getLogger(__name__)

HEADERS = [
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "Precedence",
    "X-Failed-Recipients",
]
SKIP_LABELS = {"DRAFT", "SPAM", "TRASH", "CHAT"}
RESYNC_DAYS = 30
RESYNC_THREADS = 200
RESYNC_SENT = 100
MATCH_WINDOW = timedelta(minutes=15)


@dataclass
class SyncResult:
    """What one run did."""

    mode: str = "incremental"
    fetched: int = 0
    confirmed: int = 0
    replies: int = 0
    bounces: int = 0
    adopted: int = 0
    quota_units: int = 0
    history_id: str | None = None


def sync_mailbox(
    session: Session,
    mailbox: GmailMailbox,
    gmail: GmailClient,
    write: Callable[[list[dict]], int],
    now: datetime,
    tracker: Tracker | None = None,
) -> SyncResult:
    """Run one sync of `mailbox`; commits in steps so a crash repeats work, never duplicates it.

    The caller (jobs.py) has checked the mailbox is syncing (not paused for a reconnect).
    """
    result = SyncResult()
    if not mailbox.user.tracks:
        # Tracking off (account switch, the rep's override): nothing is read or recorded, no
        # recipient, contact, reply or bounce. The position moves to now, so switching back on
        # does not record what was sent or received meanwhile.
        result.mode, latest = "off", gmail.profile()["historyId"]
    else:
        mails, latest = _changes(mailbox, gmail)
        if mails is None:
            result.mode = "full"
            mails, latest = _full_resync(session, mailbox, gmail, now)
        _apply(session, mailbox, mails, write, now, result, gmail, tracker)
    mailbox.history_id, mailbox.last_synced_at = str(latest), now
    result.history_id, result.quota_units = mailbox.history_id, gmail.quota_units
    session.commit()
    log.info(
        "gmail sync %s (%s): %d messages, %d confirmed, %d adopted, %d replies, %d bounces, "
        "%d quota units",
        mailbox.email,
        result.mode,
        result.fetched,
        result.confirmed,
        result.adopted,
        result.replies,
        result.bounces,
        result.quota_units,
    )
    return result


def _changes(mailbox: GmailMailbox, gmail: GmailClient) -> tuple[list[Mail] | None, str | None]:
    """New messages since the stored history id; None when a full resync is needed."""
    if not mailbox.history_id:
        return None, None
    try:
        records, latest = gmail.history(mailbox.history_id)
    except GmailApiError as exc:
        if exc.status != 404:
            raise
        log.info("history id of %s expired; full resync", mailbox.email)
        return None, None
    ids = [
        added["message"]["id"]
        for record in records
        for added in record.get("messagesAdded", [])
        if not SKIP_LABELS & set(added["message"].get("labelIds", []))
    ]
    return [Mail.parse(m) for m in gmail.get_messages(ids, HEADERS)] if ids else [], latest


def _full_resync(session: Session, mailbox: GmailMailbox, gmail: GmailClient, now: datetime):
    latest = gmail.profile()["historyId"]  # first: changes from here on are the next run's
    threads = session.scalars(
        select(Message.gmail_thread_id)
        .where(
            Message.user_id == mailbox.user_id,
            Message.gmail_thread_id.is_not(None),
            Message.sent_at >= now - timedelta(days=RESYNC_DAYS),
        )
        .group_by(Message.gmail_thread_id)
        .order_by(func.max(Message.sent_at).desc())  # the newest threads when there are more
        .limit(RESYNC_THREADS)
    ).all()
    raw = [m for t in gmail.get_threads(threads, HEADERS) for m in t.get("messages", [])]
    seen = {m["id"] for m in raw}
    sent = [m["id"] for m in gmail.list_sent(RESYNC_SENT) if m["id"] not in seen]
    raw += gmail.get_messages(sent, HEADERS) if sent else []
    mails = [Mail.parse(m) for m in raw if not SKIP_LABELS & set(m.get("labelIds", []))]
    return mails, latest


def _apply(session, mailbox, mails: list[Mail], write, now, result: SyncResult, gmail, tracker):
    result.fetched = len(mails)
    own = {normalize_email(mailbox.email), normalize_email(mailbox.user.email)}
    sent = sorted((m for m in mails if "SENT" in m.labels or m.sender in own), key=lambda m: m.at)
    unmatched = []
    for mail in sent:
        message = _match_sent(session, mailbox, mail)
        if message is None:
            unmatched.append(mail)
        else:
            result.confirmed += confirm(message, mail, now)
    if tracker is not None:
        result.adopted = gmail_adopt.adopt(session, mailbox, gmail, unmatched, tracker, now)
    session.commit()  # the batch writer below writes in a transaction of its own
    sent_ids = {m.id for m in sent}
    received = sorted((m for m in mails if m.id not in sent_ids), key=lambda m: m.at)
    events = [e for e in (engagement(session, mailbox, m) for m in received) if e is not None]
    events = unrecorded(session, events)
    if events:
        write(events)
    # The lead answered: their thread's reminders end (committed with the sync's position).
    follow_ups.end_on_replies(session, [e for e in events if e["kind"] == "reply"], now)
    result.replies = sum(e["kind"] == "reply" for e in events)
    result.bounces = sum(e["kind"] == "bounce" for e in events)


def _match_sent(session: Session, mailbox: GmailMailbox, mail: Mail) -> Message | None:
    mine = select(Message).where(Message.user_id == mailbox.user_id)
    found = session.scalar(mine.where(Message.gmail_message_id == mail.id))
    if found is None and mail.rfc_id:
        found = session.scalar(mine.where(Message.rfc_message_id == mail.rfc_id))
    if found is not None:
        return found
    key = subject_key(mail.headers.get("subject", ""))
    unconfirmed = mine.where(Message.gmail_message_id.is_(None))
    in_thread = session.scalars(unconfirmed.where(Message.gmail_thread_id == mail.thread_id))
    candidates = [m for m in in_thread if subject_key(m.subject) == key]
    if not candidates:
        near = unconfirmed.where(
            Message.gmail_thread_id.is_(None),
            Message.sent_at.between(mail.at - MATCH_WINDOW, mail.at + MATCH_WINDOW),
        )
        to = {a for _, a in mail.addresses("to", "cc", "bcc")}
        candidates = [
            m
            for m in session.scalars(near)
            if subject_key(m.subject) == key and to & {r.email for r in m.recipients}
        ]
    return min(candidates, key=lambda m: abs((m.sent_at - mail.at).total_seconds()), default=None)
