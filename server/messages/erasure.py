"""The steps of erasing a person from messages, and of an account's messages at termination.

Subjects and Gmail ids (the reasoning, docs/privacy.md "Data requests"): a subject that names the
person (their address in any encoding, or the name on their recipient row) is blanked wherever it
is. A message left without recipients loses its subject (it may name them in other words) and its
Gmail message, thread and RFC ids: those point into the sender's mailbox at a mail to the person
alone, and Gmail sync would otherwise go on matching the person's replies to it. A message with
other recipients keeps its Gmail ids: they are the remaining recipients' thread as much, sync
needs them for their replies, and they say nothing about the person by themselves.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from server.common import mentions
from server.messages import rollups
from server.models import Event, Link, Message, PendingHit, Recipient, SelfView, SigningKey
from server.tracking.summaries import rebuild_summary

# Name words shorter than this ("Al", "Jo") would blank subjects that merely contain the letters.
MIN_NAME = 3


def is_recipient(emails: set[str]):
    """A SQL condition: the recipient row is one of the addresses, in any capitalisation
    (recipients are stored lower-cased, but older rows and adopted mail may not be)."""
    return func.lower(Recipient.email).in_({e.lower() for e in emails})


def message_ids(session: Session, account_id: int, emails: set[str]) -> list[str]:
    """The account's messages with one of the addresses among their recipients."""
    query = (
        select(Recipient.message_id)
        .join(Message, Message.id == Recipient.message_id)
        .where(Message.account_id == account_id, is_recipient(emails))
        .distinct()
    )
    return list(session.scalars(query))


def delete_hits(
    session: Session, account_id: int, mids: list[str], found: set[str]
) -> tuple[int, set[str]]:
    """Delete the messages' events and waiting hits and every one whose URL carries a form;
    rows removed and the messages whose events changed."""
    carrying = mentions.column_mentions(Event.link_url, found)
    mine = select(Event.message_id).where(Event.account_id == account_id)
    touched = set(session.scalars(mine.where(carrying).distinct()))
    count = session.execute(
        delete(Event).where(
            Event.account_id == account_id, or_(Event.message_id.in_(mids), carrying)
        )
    ).rowcount
    # Waiting hits carry no account: theirs is their signing key's.
    kids = set(session.scalars(select(SigningKey.kid).where(SigningKey.account_id == account_id)))
    waiting = session.scalars(
        select(PendingHit).where(
            or_(
                PendingHit.message_id.in_(mids), mentions.column_mentions(PendingHit.payload, found)
            )
        )
    )
    for hit in list(waiting):
        if json.loads(hit.payload).get("kid") in kids:
            session.delete(hit)
            count += 1
    session.flush()
    return count, touched


def delete_links(session: Session, account_id: int, found: set[str]) -> int:
    """Delete the account's links whose URL carries a form."""
    account_messages = select(Message.id).where(Message.account_id == account_id)
    return session.execute(
        delete(Link).where(
            Link.message_id.in_(account_messages), mentions.column_mentions(Link.url, found)
        )
    ).rowcount


def recipient_names(session: Session, mids: list[str], emails: set[str]) -> set[str]:
    """The words of the display names the person's recipient rows hold (a subject greets them
    by first name as often as by full name), long enough to look for."""
    names = session.scalars(
        select(Recipient.name).where(Recipient.message_id.in_(mids), is_recipient(emails))
    )
    return {w for n in names for w in re.findall(r"\w+", n) if len(w) >= MIN_NAME}


def blank_messages(
    session: Session, account_id: int, mids: list[str], found: set[str], names: set[str]
) -> None:
    """Blank subjects naming the person; strip messages left without recipients of subject and
    Gmail ids (the reasoning is in this module's docstring)."""
    session.flush()
    orphaned = [m for m in mids if not session.scalar(select(Recipient.id).where(
        Recipient.message_id == m).limit(1))]  # fmt: skip
    session.execute(
        update(Message)
        .where(Message.id.in_(orphaned))
        .values(subject="", gmail_message_id=None, gmail_thread_id=None, rfc_message_id=None)
    )
    naming = mentions.column_mentions(Message.subject, found)
    session.execute(
        update(Message).where(Message.account_id == account_id, naming).values(subject="")
    )
    if not names:
        return
    # Names are looked for only in the person's own messages, as whole words.
    pattern = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in names), re.IGNORECASE)
    for message in session.scalars(select(Message).where(Message.id.in_(mids))):
        if pattern.search(message.subject or ""):
            message.subject = ""


def rebuild_summaries(session: Session, mids: set[str]) -> None:
    """Recompute the messages' summaries from the events that remain (none: no summary), so an
    erased person's opens and clicks never show on the other recipients."""
    session.flush()
    conn = session.connection()
    for mid in sorted(mids):
        rebuild_summary(conn, mid)


def erase_account_messages(session: Session, account_id: int, mode: str) -> int:
    """Delete the account's messages, or strip them of identity; raw events, waiting hits and
    views go in both modes (each hit's time, country and device could single a person out),
    summaries stay."""
    mids = select(Message.id).where(Message.account_id == account_id)
    count = session.execute(delete(SelfView).where(SelfView.message_id.in_(mids))).rowcount
    count += session.execute(delete(Event).where(Event.account_id == account_id)).rowcount
    count += session.execute(delete(PendingHit).where(PendingHit.message_id.in_(mids))).rowcount
    if mode == "delete":
        for model in (Link, Recipient):
            count += session.execute(delete(model).where(model.message_id.in_(mids))).rowcount
        count += session.execute(delete(Message).where(Message.account_id == account_id)).rowcount
        rollups.drop_account(session, account_id)
        rollups.refresh(session, account_id)
        return count
    for r in session.scalars(select(Recipient).where(Recipient.message_id.in_(mids))):
        r.email, r.name = f"anonymized-{r.id}@anonymized.invalid", ""
        count += 1
    for link in session.scalars(select(Link).where(Link.message_id.in_(mids))):
        parts = urlsplit(link.url)
        link.url = f"{parts.scheme}://{parts.hostname or ''}/"
    count += session.execute(
        update(Message)
        .where(Message.account_id == account_id)
        .values(subject="", gmail_message_id=None, gmail_thread_id=None)
    ).rowcount
    return count
