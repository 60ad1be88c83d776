"""Server-side sending through the rep's Gmail: the checks a request gets at once, and the
mail each recipient's copy is.

Mail composed in Gmail has one body for all its recipients, so its opens belong to the message;
sending here gives each recipient a copy with its own message id, so each open and click is
attributed to exactly one person. The sending itself is a job (outbox.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import users as accounts
from server.accounts.users import normalize_email
from server.common import signing
from server.gmail.auth import SEND, GoogleAuthError
from server.gmail.client import GmailApiError, GmailClient
from server.gmail.mail import Mail
from server.messages import service as messages
from server.models import GmailMailbox, JobRun, Message, User

KIND = "gmail_send"  # the job-run kind of a send (outbox.py)


class SendError(Exception):
    """Sending cannot be done; `status` and `code` for the API."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Thread:
    """What a reply needs from the thread it answers."""

    id: str
    subject: str
    in_reply_to: str | None
    references: str


class LookupFailed(Exception):
    """Gmail could not say whether a copy is in the rep's sent mail."""


# The newest sent messages a lookup reads. `users.messages.list` cannot search by Message-ID
# (`q=rfc822msgid:`) under the gmail.metadata scope every connected mailbox has, so the lookup
# reads the Message-ID header of the newest sent messages instead.
LOOKUP_SENT = 100
# Gmail's clock and ours may differ: the listing must reach this far before the attempt.
CLOCK_SKEW = timedelta(minutes=5)


def find_sent(gmail: GmailClient, rfc_id: str, attempted_at: datetime) -> Mail | None:
    """The message in the rep's sent mail (trash included) carrying `rfc_id`, None when Gmail
    shows it is not there; LookupFailed when Gmail cannot say."""
    try:
        listed = gmail.list_sent(LOOKUP_SENT, include_spam_trash=True)
        found = gmail.get_messages([m["id"] for m in listed], ["Message-ID"]) if listed else []
    except (GmailApiError, GoogleAuthError) as exc:
        raise LookupFailed(str(exc)) from exc
    mails = [Mail.parse(m) for m in found]
    for mail in mails:
        if mail.rfc_id == rfc_id and "SENT" in mail.labels:
            return mail
    # Not among the newest: proof it is not there only if they reach back before the attempt.
    if len(listed) < LOOKUP_SENT or any(m.at < attempted_at - CLOCK_SKEW for m in mails):
        return None
    raise LookupFailed(f"more than {LOOKUP_SENT} messages were sent since; not all were read")


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
    # A draft or a trashed message is no message of the conversation to answer.
    mails = [Mail.parse(m) for m in found[0]["messages"]]
    mails = [m for m in mails if not {"DRAFT", "TRASH"} & m.labels]
    if not mails:
        raise SendError(404, "thread_not_found", "No such thread in your Gmail.")
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


def check_request(
    session: Session, user: User, data: dict, link_secrets: tuple[str, ...]
) -> list[dict]:
    """The recipients of a send request, each with the id its copy gets (one copy per address);
    SendError when the request cannot be sent as it is."""
    if not data.get("thread_id") and not (data.get("subject") or "").strip():
        raise SendError(400, "invalid_request", "A new message needs a subject.")
    recipients: dict[str, dict] = {}
    key = accounts.key_material(link_secrets, accounts.current_signing_key(session, user).kid)
    for recipient in data["recipients"]:
        try:
            address(recipient.get("name") or "", recipient["email"])
        except ValueError as exc:
            raise SendError(400, "invalid_recipient", str(exc)) from exc
        # Every copy's id is known before anything is sent, so the run can name them all.
        with_id = recipient | {"id": recipient.get("id") or signing.bound_message_id(key)}
        recipients.setdefault(normalize_email(recipient["email"]), with_id)
    ids = [r["id"] for r in recipients.values()]
    if len(set(ids)) != len(ids):
        raise SendError(400, "invalid_request", "Each recipient's copy needs an id of its own.")
    for recipient in recipients.values():
        _check_id(session, user, recipient, link_secrets)
    return list(recipients.values())


def _check_id(session: Session, user: User, recipient: dict, secrets_: tuple[str, ...]) -> None:
    """Refuse an id not made with the user's key, or one of a copy another send still holds; a
    copy Gmail accepted earlier is fine (the job skips it: sending again sends only the rest), and
    so is one whose send ended unknown (the job looks for it in the rep's sent mail)."""
    message = session.get(Message, recipient["id"])
    if message is None or message.user_id != user.id:
        try:
            messages.check_new_id(session, user, secrets_, recipient["id"])
        except messages.MessageError as exc:
            raise SendError(exc.status, exc.code, str(exc)) from exc
        return
    mine = [r.email for r in message.recipients] == [normalize_email(recipient["email"])]
    if mine and message.gmail_message_id is not None:
        return
    if mine and message.rfc_message_id is not None and not in_flight(session, user, message.id):
        return  # a copy Gmail never confirmed: the job looks in the rep's sent mail first
    if mine and message.rfc_message_id is not None:
        raise SendError(
            409,
            "maybe_sent",
            f"The copy {recipient['id']} to {recipient['email']} is being sent by another "
            "request; wait for it to end (its job says whether Gmail took it).",
        )
    raise SendError(
        409, "id_conflict", f"The id {recipient['id']} is already used by another of your messages."
    )


def in_flight(session: Session, user: User, copy_id: str, but: str | None = None) -> bool:
    """Whether a send run of the user other than `but`, queued or running, holds the copy."""
    runs = session.scalars(
        select(JobRun).where(
            JobRun.user_id == user.id,
            JobRun.kind == KIND,
            JobRun.status.in_(("queued", "running")),
            JobRun.id != (but or ""),
        )
    )
    return any(i.get("id") == copy_id for run in runs for i in run.items or [])
