"""Gmail sync: confirm reported messages, and turn replies and bounces into events.

One run reads `users.history.list` from the mailbox's stored history id (a mailbox without
changes costs that one call), fetches the new messages' headers in batches (gmail.metadata
gives headers and labels, never bodies) and then:

- a message the rep sent is matched to a reported one by Gmail id, RFC Message-ID, thread and
  subject, or subject, time and recipients; the match is confirmed with Gmail's ids, its
  Message-ID, its recipients and the time Gmail sent it; an unmatched one is adopted by the pixel
  in its body when the grant allows reading bodies (adopt.py);
- a message from someone else in a thread holding a tracked message is a `reply` to it; a
  delivery-failure notice is a `bounce` (matched by thread, In-Reply-To/References or
  X-Failed-Recipients). Automatic answers (out of office) are neither.

With tracking switched off for the account or the rep, a run reads and records nothing.

Event ids derive from the mailbox and the Gmail message id, and events go through the sink's
idempotent batch writer, so running a sync twice never counts anything twice. A stored history
id Google no longer knows (404) means a full resync: the tracked threads of the last 30 days and
the latest sent messages, then the profile's current history id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.gmail import adopt as gmail_adopt
from server.gmail.client import GmailApiError, GmailClient
from server.gmail.mail import Mail, confirm, is_automatic, is_bounce, subject_key
from server.messages.service import Tracker
from server.models import GmailMailbox, Message, Recipient
from server.tracking.verdicts.agent import CLASSIFIER_VERSION

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


def event_id(mailbox: GmailMailbox, mail: Mail, kind: str) -> str:
    """The deterministic id of the event one Gmail message makes: a replay finds it stored."""
    digest = hashlib.sha256(f"{kind}:{mailbox.email}:{mail.id}".encode()).hexdigest()
    return "g" + digest[:31]


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
    events = [e for e in (_engagement(session, mailbox, m) for m in received) if e is not None]
    if events:
        write(events)
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


def _engagement(session: Session, mailbox: GmailMailbox, mail: Mail) -> dict | None:
    """The reply or bounce event a received message makes, if it answers a tracked message."""
    bounce = is_bounce(mail)
    if not bounce and is_automatic(mail):
        return None
    mine = select(Message).where(
        Message.user_id == mailbox.user_id, Message.account_id == mailbox.account_id
    )
    candidates = list(session.scalars(mine.where(Message.gmail_thread_id == mail.thread_id)))
    if bounce and candidates:
        # Copies sent one per recipient share a thread: the bounce is the failed recipient's.
        failed = failed_recipients(mail)
        candidates = [m for m in candidates if failed & {r.email for r in m.recipients}] or (
            candidates
        )
    if bounce and not candidates:
        candidates = _bounced_messages(session, mine, mail)
    target = _answered(candidates, mail.at)
    if target is None or not target.tracked:
        return None
    kind = "bounce" if bounce else "reply"
    return {
        "id": event_id(mailbox, mail, kind),
        "account_id": target.account_id,
        "message_id": target.id,
        "kid": target.kid,
        "kind": kind,
        "occurred_at": mail.at.timestamp(),
        "verdict": "machine" if bounce else "human",
        "reasons": "gmail-delivery-failure" if bounce else "gmail-reply",
        "classifier_version": CLASSIFIER_VERSION,
        "method": "",
        "link_url": None,
    }


def _bounced_messages(session: Session, mine, mail: Mail) -> list[Message]:
    if mail.referenced:
        found = list(session.scalars(mine.where(Message.rfc_message_id.in_(mail.referenced))))
        if found:
            return found
    failed = failed_recipients(mail)
    if not failed:
        return []
    query = mine.join(Recipient).where(Recipient.email.in_(failed), Message.sent_at <= mail.at)
    latest = session.scalars(query.order_by(Message.sent_at.desc()).limit(1)).first()
    return [latest] if latest else []


def failed_recipients(mail: Mail) -> set[str]:
    """The addresses a delivery-failure notice names (X-Failed-Recipients), normalized."""
    failed = {normalize_email(a) for a in mail.headers.get("x-failed-recipients", "").split(",")}
    failed.discard("")
    return failed


def _answered(candidates: list[Message], at: datetime) -> Message | None:
    """The message a reply at `at` answers: the latest one sent before it, else the first."""
    dated = sorted((m for m in candidates if m.sent_at), key=lambda m: m.sent_at)
    before = [m for m in dated if m.sent_at <= at]
    if before:
        return before[-1]
    return dated[0] if dated else (candidates[0] if candidates else None)
