"""A Gmail message as the sync reads it (format=metadata), what kind of message it is, and
confirming a recorded message with it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses, parseaddr

from sqlalchemy.orm import object_session

from server.accounts.users import normalize_email
from server.contacts import service as contacts
from server.models import Message, Recipient
from server.tracking.summaries import copy_message_facts, mark_report_days

_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
# Set by autoresponders (RFC 3834 predecessors, Exchange's out-of-office answers).
_AUTO_HEADERS = {"x-autoreply", "x-autorespond", "x-auto-response-suppress"}
_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "list"}
_DELAY_SUBJECT = re.compile(r"\(delay\)|\bdelayed\b|delivery delay|warning:", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr)\s*:\s*)+", re.IGNORECASE)


@dataclass
class Mail:
    """The parts of a Gmail message (format=metadata) the sync reads."""

    id: str
    thread_id: str
    labels: set[str]
    at: datetime
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict) -> Mail:
        """Read Gmail's message resource."""
        headers = {}
        for h in data.get("payload", {}).get("headers", []):
            headers.setdefault(h["name"].lower(), h["value"])
        at = datetime.fromtimestamp(int(data.get("internalDate", 0)) / 1000, UTC)
        return cls(data["id"], data.get("threadId", ""), set(data.get("labelIds", [])), at, headers)

    def addresses(self, *names: str) -> list[tuple[str, str]]:
        """(name, normalized address) pairs of the given address headers."""
        values = [self.headers.get(n, "") for n in names]
        return [(n, normalize_email(a)) for n, a in getaddresses(values) if "@" in a]

    @property
    def sender(self) -> str:
        """The From address, normalized."""
        return normalize_email(parseaddr(self.headers.get("from", ""))[1])

    @property
    def rfc_id(self) -> str | None:
        """The Message-ID header."""
        return self.headers.get("message-id", "").strip() or None

    @property
    def referenced(self) -> set[str]:
        """Message-IDs this message answers (In-Reply-To and References)."""
        text = self.headers.get("in-reply-to", "") + " " + self.headers.get("references", "")
        return set(re.findall(r"<[^<>\s]+>", text))


def is_bounce(mail: Mail) -> bool:
    """Whether a message is a delivery-failure notice (a delay notice is not one)."""
    if "x-failed-recipients" in mail.headers:
        return True
    local = mail.sender.partition("@")[0]
    content_type = mail.headers.get("content-type", "").lower()
    notice = local in _BOUNCE_SENDERS or (
        "multipart/report" in content_type and "delivery-status" in content_type
    )
    return notice and not is_delay(mail)


def is_delay(mail: Mail) -> bool:
    """Whether a delivery notice only says delivery is delayed (the server keeps trying).

    Format=metadata shows no body, so the DSN's `Action: delayed` is out of sight; Gmail's and
    other servers' delay notices say so in the subject and name no failed recipient.
    """
    subject = mail.headers.get("subject", "")
    return "x-failed-recipients" not in mail.headers and bool(_DELAY_SUBJECT.search(subject))


def is_automatic(mail: Mail) -> bool:
    """Whether a message was sent by a program (an out-of-office answer, a notification)."""
    headers = mail.headers
    if headers.get("auto-submitted", "no").strip().lower() != "no":
        return True
    if _AUTO_HEADERS & headers.keys():
        return True
    return headers.get("precedence", "").strip().lower() in _AUTO_PRECEDENCE


def subject_key(subject: str) -> str:
    """A subject without reply/forward prefixes, for matching."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject or "").split()).casefold()


def confirm(message: Message, mail: Mail, now: datetime) -> bool:
    """Confirm a recorded message with what Gmail says of it; True the first time."""
    message.gmail_message_id, message.gmail_thread_id = mail.id, mail.thread_id
    message.rfc_message_id = mail.rfc_id or message.rfc_message_id
    session = object_session(message)
    moved = message.sent_at != mail.at
    if moved:  # the report day it is stored under, before Gmail's time moves it
        mark_report_days(session.connection(), Message, Message.id == message.id)
    message.sent_at = mail.at
    message.subject = message.subject or mail.headers.get("subject", "")
    known = {r.email for r in message.recipients}
    added = []
    for name, address in mail.addresses("to", "cc", "bcc"):
        if address not in known:
            message.recipients.append(Recipient(email=address, name=name))
            known.add(address)
            added.append((address, name))
    if added:  # recipients Gmail knows of and the report missed become contacts too
        contacts.add_recipients(session, message.account_id, added, enrich=message.tracked)
    already = message.confirmed_at is not None
    message.confirmed_at = message.confirmed_at or now
    if moved:  # its new day in the reports, and its summary's copy of the time
        session.flush()
        copy_message_facts(session.connection(), [message.id])
    return not already
