"""The messages provider of the personal-data registry: recipient rows, their messages'
events and the senders' views of them."""

from __future__ import annotations

from urllib.parse import quote, quote_plus, urlsplit

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from server.common.personal_data import Provider, addresses_of
from server.models import Event, Link, Message, Recipient, SelfView
from server.models.base import iso
from server.tracking.events import event_view


def _message_ids(session: Session, account_id: int, emails: set[str]) -> list[str]:
    query = (
        select(Recipient.message_id)
        .join(Message, Message.id == Recipient.message_id)
        .where(Message.account_id == account_id, Recipient.email.in_(emails))
        .distinct()
    )
    return list(session.scalars(query))


def find_messages(session: Session, account_id: int, email: str) -> dict:
    """Recipient rows, their messages, the messages' events and sender views."""
    mids = _message_ids(session, account_id, addresses_of(session, account_id, email))
    messages = session.scalars(
        select(Message).where(Message.id.in_(mids)).order_by(Message.sent_at)
    )
    events = session.scalars(
        select(Event)
        .where(Event.account_id == account_id, Event.message_id.in_(mids))
        .order_by(Event.occurred_at)
    )
    views = session.scalars(select(SelfView).where(SelfView.message_id.in_(mids)))
    return {
        "messages": [
            {
                "id": m.id,
                "subject": m.subject,
                "sent_at": iso(m.sent_at),
                "sender_user_id": m.user_id,
                "recipients": [{"email": r.email, "name": r.name} for r in m.recipients],
            }
            for m in messages
        ],
        "events": [{"message_id": e.message_id, **event_view(e)} for e in events],
        "sender_views": [
            {"message_id": v.message_id, "viewed_at": iso(v.viewed_at)} for v in views
        ],
    }


def erase_messages(session: Session, account_id: int, email: str) -> int:
    """Remove the person's recipient rows and the events of those messages (hits belong to the
    message, so they may be this person's); the per-message counts remain, carrying no identity.
    Events and links whose URL carries the address go too."""
    emails = addresses_of(session, account_id, email)
    mids = _message_ids(session, account_id, emails)
    account_messages = select(Message.id).where(Message.account_id == account_id)
    count = session.execute(
        delete(Event).where(Event.account_id == account_id, Event.message_id.in_(mids))
    ).rowcount
    count += session.execute(delete(SelfView).where(SelfView.message_id.in_(mids))).rowcount
    for form in _url_forms(emails):
        count += session.execute(
            delete(Event).where(Event.account_id == account_id, _mentions(Event.link_url, form))
        ).rowcount
        count += session.execute(
            delete(Link).where(Link.message_id.in_(account_messages), _mentions(Link.url, form))
        ).rowcount
    count += session.execute(
        delete(Recipient).where(Recipient.message_id.in_(mids), Recipient.email.in_(emails))
    ).rowcount
    _blank_subjects(session, account_id, emails, mids)
    session.expire_all()
    return count


def _url_forms(emails: set[str]) -> set[str]:
    """The addresses as they may appear in a URL: plain, percent-encoded, form-encoded."""
    return {form for e in emails for form in (e, quote(e, safe=""), quote_plus(e))}


def _mentions(column, text: str):
    """Whether the column contains `text`, ignoring case (also of percent-escapes), literally."""
    return func.lower(column).contains(text.lower(), autoescape=True)


def _blank_subjects(session: Session, account_id: int, emails: set[str], mids: list[str]) -> None:
    """Subject lines that name the person, and those of messages left without a recipient (the
    subject may name them in other words), are blanked."""
    orphaned = [m for m in mids if not session.scalar(select(Recipient.id).where(
        Recipient.message_id == m).limit(1))]  # fmt: skip
    naming = or_(*(_mentions(Message.subject, e) for e in emails))
    session.execute(
        update(Message)
        .where(Message.account_id == account_id, or_(Message.id.in_(orphaned), naming))
        .values(subject="")
    )


def rectify_messages(session: Session, account_id: int, email: str, changes: dict) -> int:
    """Correct the display name on the person's recipient rows."""
    emails = addresses_of(session, account_id, email)
    mids = _message_ids(session, account_id, emails)
    return session.execute(
        update(Recipient)
        .where(Recipient.message_id.in_(mids), Recipient.email.in_(emails))
        .values(name=str(changes["name"]).strip()[:200])
    ).rowcount


def erase_account_messages(session: Session, account_id: int, mode: str) -> int:
    """Delete the account's messages, or strip them of identity; raw events and views go in both
    modes (each hit's time, country and device could single a person out), summaries stay."""
    mids = select(Message.id).where(Message.account_id == account_id)
    count = session.execute(delete(SelfView).where(SelfView.message_id.in_(mids))).rowcount
    count += session.execute(delete(Event).where(Event.account_id == account_id)).rowcount
    if mode == "delete":
        for model in (Link, Recipient):
            count += session.execute(delete(model).where(model.message_id.in_(mids))).rowcount
        count += session.execute(delete(Message).where(Message.account_id == account_id)).rowcount
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


PROVIDER = Provider(
    name="messages",
    find=find_messages,
    erase=erase_messages,
    erase_account=erase_account_messages,
    fields=("name",),
    rectify=rectify_messages,
)
