"""Server-side sending through the rep's Gmail: one tracked copy per recipient.

Mail composed in Gmail has one body for all its recipients, so its opens belong to the message;
sending here gives each recipient a copy with its own message id, so each open and click is
attributed to exactly one person. Each copy is recorded only once Gmail has accepted it: a
refused copy leaves nothing behind, and the copies sent before it stay recorded (they went out).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid

from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.common import signing
from server.gmail.auth import (
    SEND,
    GoogleAuthError,
    ReconnectNeeded,
    mark_reconnect_needed,
)
from server.gmail.client import GmailApiError, GmailClient
from server.gmail.mail import Mail
from server.gmail.text import html_to_text
from server.messages import service as messages
from server.models import GmailMailbox, Message, User


class SendError(Exception):
    """Sending could not be done; `status` and `code` for the API, `details` per recipient."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.details = status, code, details


@dataclass(frozen=True)
class Thread:
    """What a reply needs from the thread it answers."""

    id: str
    subject: str
    in_reply_to: str | None
    references: str


def check_allowed(user: User, mailbox: GmailMailbox | None) -> GmailMailbox:
    """The mailbox to send from, or SendError saying why sending is not possible."""
    if not user.account.sending_enabled:
        raise SendError(403, "sending_disabled", "Server-side sending is off for this account.")
    if mailbox is None:
        raise SendError(409, "gmail_not_connected", "Connect Gmail first (/auth/google).")
    if mailbox.status != "ok":
        raise SendError(409, "reconnect_needed", "Gmail access expired. Connect Gmail again.")
    if SEND not in mailbox.scopes.split():
        raise SendError(
            409, "missing_scope", "Gmail sending was not granted. Connect Gmail again to allow it."
        )
    return mailbox


def thread_context(gmail: GmailClient, thread_id: str) -> Thread:
    """Subject and threading headers of the thread a reply goes into."""
    headers = ["Subject", "Message-ID", "References"]
    try:
        found = gmail.get_threads([thread_id], headers)
    except GmailApiError as exc:
        raise SendError(502, "gmail_error", f"Gmail did not return the thread: {exc}") from exc
    if not found or not found[0].get("messages"):
        raise SendError(404, "thread_not_found", "No such thread in your Gmail.")
    mails = [Mail.parse(m) for m in found[0]["messages"]]
    parent = mails[-1].rfc_id
    references = " ".join(filter(None, [mails[-1].headers.get("references", ""), parent]))
    return Thread(thread_id, mails[0].headers.get("subject", ""), parent, references)


def build_mime(
    sender: tuple[str, str],
    to: tuple[str, str],
    subject: str,
    html: str,
    text: str,
    message_id: str,
    sent_at: datetime,
    thread: Thread | None,
) -> EmailMessage:
    """A multipart/alternative message (text and HTML, UTF-8, 7-bit transfer encodings),
    headers encoded as RFC 2047."""
    # An internationalized local part needs UTF-8 headers (RFC 6532), which Gmail accepts;
    # otherwise non-ASCII text goes into RFC 2047 encoded words.
    utf8 = not (sender[1].isascii() and to[1].isascii())
    # 7-bit bodies either way: UTF-8 text goes out quoted-printable or base64, never raw 8-bit.
    mail = EmailMessage(policy=(SMTPUTF8 if utf8 else SMTP).clone(cte_type="7bit"))
    mail["From"] = address(*sender)
    mail["To"] = address(*to)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(sent_at)
    mail["Message-ID"] = message_id
    if thread is not None and thread.in_reply_to:
        mail["In-Reply-To"] = thread.in_reply_to
        mail["References"] = thread.references
    mail.set_content(text, subtype="plain", charset="utf-8")
    mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail


def address(name: str, email: str) -> Address:
    """A header address; the domain in its ASCII (IDNA) form. ValueError if malformed."""
    local, _, domain = email.strip().rpartition("@")
    try:
        return Address(
            display_name=name or "", username=local, domain=domain.encode("idna").decode()
        )
    except (HeaderDefect, UnicodeError, IndexError) as exc:
        raise ValueError(f"not a deliverable address: {email!r}") from exc


def reply_subject(original: str) -> str:
    """The subject of a reply: the thread's, with one "Re: " in front."""
    return original if re.match(r"\s*re\s*:", original, re.IGNORECASE) else f"Re: {original}"


@dataclass(frozen=True)
class Draft:
    """A checked send request: where it goes, what it says, to whom."""

    thread: Thread | None
    subject: str
    html: str
    text: str
    recipients: list[dict]  # each with the "id" its copy gets
    already: dict[str, Message]  # copies sent by an earlier attempt, by id


def prepare(session: Session, user: User, gmail: GmailClient, data: dict) -> Draft:
    """Check a send request and resolve its thread; SendError before anything is sent."""
    try:
        thread = thread_context(gmail, data["thread_id"]) if data.get("thread_id") else None
    except GoogleAuthError as exc:
        session.commit()  # keep the reconnect-needed mark
        raise SendError(_auth_status(exc), exc.code, str(exc)) from exc
    subject = reply_subject(thread.subject) if thread else data.get("subject") or ""
    if not subject.strip():
        raise SendError(400, "invalid_request", "A new message needs a subject.")
    recipients: dict[str, dict] = {}
    for recipient in data["recipients"]:
        try:
            address(recipient.get("name") or "", recipient["email"])
        except ValueError as exc:
            raise SendError(400, "invalid_recipient", str(exc)) from exc
        # Every copy's id is known before anything is sent, so a failure can name them all.
        with_id = recipient | {"id": recipient.get("id") or signing.new_message_id()}
        recipients.setdefault(normalize_email(recipient["email"]), with_id)
    ids = [r["id"] for r in recipients.values()]
    if len(set(ids)) != len(ids):
        raise SendError(400, "invalid_request", "Each recipient's copy needs an id of its own.")
    text = data.get("text") or html_to_text(data["html"])
    draft = Draft(thread, subject, data["html"], text, list(recipients.values()), {})
    draft.already.update(_already_sent(session, user, draft.recipients))
    return draft


def _already_sent(session: Session, user: User, recipients: list[dict]) -> dict[str, Message]:
    """Copies a previous attempt sent under these ids (a retry skips them); SendError if an id
    is taken by anything else."""
    found = {}
    for recipient in recipients:
        message = session.get(Message, recipient["id"])
        if message is None:
            continue
        if (
            message.user_id != user.id
            or message.gmail_message_id is None
            or [r.email for r in message.recipients] != [normalize_email(recipient["email"])]
        ):
            raise SendError(
                409, "id_conflict", f"The id {recipient['id']} is already used by another message."
            )
        found[recipient["id"]] = message
    return found


def send(
    session: Session,
    user: User,
    mailbox: GmailMailbox,
    gmail: GmailClient,
    data: dict,
    tracker: messages.Tracker,
    now: datetime,
) -> list[Message]:
    """Send one tracked copy per recipient; commit each copy as Gmail accepts it."""
    draft = prepare(session, user, gmail, data)
    sent: list[Message] = []
    for recipient in draft.recipients:
        if recipient["id"] in draft.already:
            sent.append(draft.already[recipient["id"]])  # a retry: this copy went out before
            continue
        try:
            sent.append(_send_copy(session, user, mailbox, gmail, draft, recipient, tracker, now))
        except (GmailApiError, GoogleAuthError) as exc:
            session.rollback()  # this copy was not sent: nothing of it stays
            if isinstance(exc, ReconnectNeeded):
                mark_reconnect_needed(mailbox, "Google revoked or expired the access.")
                session.commit()
            raise _failure(exc, recipient["email"], sent, draft.recipients) from exc
    return sent


def _send_copy(session, user, mailbox, gmail, draft: Draft, recipient: dict, tracker, now):
    """Record, track, build and send one recipient's copy; committed once Gmail accepted it."""
    copy = {"id": recipient["id"], "subject": draft.subject, "recipients": [recipient]}
    message, tracked = messages.register(
        session, user, copy | {"html": draft.html, "sent_at": now}, tracker
    )
    rfc_id = make_msgid(domain=mailbox.email.rpartition("@")[2])
    mime = build_mime(
        (user.name, mailbox.email),
        (recipient.get("name") or "", recipient["email"]),
        draft.subject,
        tracked["html"],
        draft.text,
        rfc_id,
        now,
        draft.thread,
    )
    raw = base64.urlsafe_b64encode(mime.as_bytes()).decode("ascii")
    answer = gmail.send(raw, draft.thread.id if draft.thread else None)
    message.gmail_message_id, message.gmail_thread_id = answer["id"], answer.get("threadId")
    message.rfc_message_id = rfc_id
    session.commit()
    return message


def _failure(exc: Exception, failed: str, sent: list[Message], recipients: list[dict]):
    done = {m.id for m in sent}
    details = [
        {"recipient": r["email"], "id": r["id"], "sent": r["id"] in done} for r in recipients
    ]
    if isinstance(exc, GoogleAuthError):
        return SendError(_auth_status(exc), exc.code, str(exc), details)
    message = f"Gmail did not send the copy to {failed}: {exc}."
    if not done:
        return SendError(502, "send_failed", message, details)
    # Some copies went out and stay recorded: a retry with the same ids sends only the rest.
    return SendError(
        502,
        "partially_sent",
        f"{message} {len(done)} of {len(recipients)} copies were sent (see details); send "
        "again with each recipient's id to send only the others.",
        details,
    )


def _auth_status(exc: GoogleAuthError) -> int:
    """409 when the rep must reconnect; 502 when Google could not be asked (refresh failed)."""
    return 502 if exc.code == "refresh_failed" else 409
