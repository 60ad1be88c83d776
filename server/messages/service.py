"""Registering sent messages, tracking their HTML, and reading their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import users as accounts
from server.common import signing
from server.contacts import service as contacts
from server.messages import follow_ups
from server.messages.rewrite import track_html
from server.models import Event, FollowUp, Link, Message, MessageSummary, Recipient, User
from server.models.base import iso
from server.tracking.events import event_view
from server.tracking.summaries import copy_message_facts, mark_report_days
from server.webhooks import hits as webhooks


class MessageError(ValueError):
    """A message request that cannot be carried out; `code` names the failure."""

    def __init__(self, code: str, message: str, status: int = 409):
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Tracker:
    """Where tracking URLs point and the secrets that sign them."""

    public_url: str
    link_secrets: tuple[str, ...]

    @property
    def own_hosts(self) -> set[str]:
        """host[:port] of our tracking URLs, so rewriting leaves our own links alone."""
        return {urlsplit(self.public_url).netloc.lower()}


def visible_messages(user: User):
    """A select of the messages this user may see: an admin all the account's, a rep their own."""
    query = select(Message).where(Message.account_id == user.account_id)
    return query if user.is_admin else query.where(Message.user_id == user.id)


def register(session: Session, user: User, data: dict, tracker: Tracker) -> tuple[Message, dict]:
    """Record a sent message (idempotent on its id); track its HTML when given."""
    mid = data.get("id")
    message = session.get(Message, mid) if mid else None
    if mid and (message is None or message.user_id != user.id):
        check_new_id(session, user, tracker.link_secrets, mid)
    created = message is None
    if created:
        key = accounts.current_signing_key(session, user)
        material = accounts.key_material(tracker.link_secrets, key.kid)
        mid = mid or signing.bound_message_id(material)
        message = Message(id=mid, account_id=user.account_id, user_id=user.id, kid=key.kid)
        message.tracked = user.tracks
        # The parts the sender chose; only at creation, so a repeated report changes nothing.
        message.track_opens = data.get("track_opens", True) is not False
        message.track_links = data.get("track_links", True) is not False
        message.recipients = [
            Recipient(email=accounts.normalize_email(r["email"]), name=r.get("name") or "")
            for r in data["recipients"]
        ]
        session.add(message)
        seen = [(r["email"], r.get("name") or "") for r in data["recipients"]]
        contacts.add_recipients(session, user.account_id, seen, enrich=message.tracked)
    else:  # its report day as stored, before a new sending time moves it
        mark_report_days(session.connection(), Message, Message.id == message.id)
    message.subject = data.get("subject", message.subject or "")
    message.sent_at = data.get("sent_at") or message.sent_at or datetime.now(UTC)
    for field in ("gmail_message_id", "gmail_thread_id"):
        if data.get(field):
            setattr(message, field, data[field])
    extra = {}
    if data.get("html") is not None:
        extra = _track(message, data["html"], tracker)
    session.flush()
    if created:
        mark_report_days(session.connection(), Message, Message.id == message.id)
        webhooks.emit_sent(session, message)
    else:  # a report again may move the sending time; reports read the summary's copy
        copy_message_facts(session.connection(), [message.id])
    return message, extra


def check_new_id(session: Session, user: User, link_secrets: tuple[str, ...], mid: str) -> None:
    """Refuse a new message id not made with the user's key: whether another account uses it is
    never looked up, so the answer cannot tell."""
    if not accounts.owns_message_id(session, user, link_secrets, mid):
        raise MessageError(
            "invalid_id",
            f"The id {mid} was not made with your signing key; leave it out and one is made.",
            status=400,
        )
    if session.get(Message, mid) is not None:  # made with this rep's key, held by another
        raise MessageError("conflict", "this message id belongs to someone else")


def _track(message: Message, html: str, tracker: Tracker) -> dict:
    if not message.tracked:
        return {"html": html, "pixel_url": None, "links": []}
    key = accounts.key_material(tracker.link_secrets, message.kid)
    base = tracker.public_url
    pixel = base + signing.pixel_path(key, message.kid, message.id) if message.track_opens else None

    def link_url(url: str) -> str:
        return base + signing.click_path(key, message.kid, message.id, url)

    tracked = track_html(html, pixel, link_url if message.track_links else None, tracker.own_hosts)
    if not message.links:
        message.links = [Link(position=i, url=url) for i, url in enumerate(tracked.links)]
    links = [{"url": url, "tracked_url": link_url(url)} for url in tracked.links]
    return {"html": tracked.html, "pixel_url": pixel, "links": links}


def summary_of(
    message: Message | None,
    summary: MessageSummary | None,
    follow_up: FollowUp | None = None,
) -> dict:
    """The status a client shows for one message: its real opens and clicks (human and proxy
    hits; machine, scanner, prefetch, bot and the sender's own are only in `counts`), when the
    last real one was, whether and when it was replied to and bounced, and the rep's reminder
    on it, if any."""
    s = summary or MessageSummary(opens=0, clicks=0, replies=0, bounces=0)
    out = {
        "status": s.status,
        "opens": s.opens,
        "clicks": s.clicks,
        "replies": s.replies,
        "bounces": s.bounces or 0,
        "counts": s.counts(),
        "first_open_at": iso(s.first_open_at),
        "last_open_at": iso(s.last_open_at),
        "last_click_at": iso(s.last_click_at),
        "replied": bool(s.replies),
        "last_reply_at": iso(s.last_reply_at),
        "bounced": bool(s.bounces),
        "bounced_at": iso(s.last_bounce_at),
    }
    if message is not None:
        out |= {
            "id": message.id,
            "subject": message.subject,
            "sent_at": iso(message.sent_at),
            "tracked": message.tracked,
            "track_opens": message.track_opens,
            "track_links": message.track_links,
            "gmail_message_id": message.gmail_message_id,
            "gmail_thread_id": message.gmail_thread_id,
            "recipients": [{"email": r.email, "name": r.name} for r in message.recipients],
            "follow_up": follow_ups.view(follow_up),
        }
    return out


def message_detail(session: Session, user: User, mid: str, limit: int = 500) -> dict | None:
    """Status and events of one message the user may see; None when there is none."""
    message = session.scalar(visible_messages(user).where(Message.id == mid))
    if message is None:
        return None
    summary = session.get(MessageSummary, mid)
    events = session.scalars(
        select(Event)
        .where(Event.message_id == mid, Event.account_id == user.account_id)
        .order_by(Event.occurred_at)
        .limit(limit)
    )
    follow_up = follow_ups.of_messages(session, user, [mid]).get(mid)
    return summary_of(message, summary, follow_up) | {"events": [event_view(e) for e in events]}


def threads_status(session: Session, user: User, thread_ids: list[str]) -> dict[str, list[dict]]:
    """Per Gmail thread id, the status of each tracked message in it; reads summaries only."""
    query = (
        visible_messages(user)
        .add_columns(MessageSummary)
        .outerjoin(MessageSummary, MessageSummary.message_id == Message.id)
        .where(Message.gmail_thread_id.in_(thread_ids))
        .order_by(Message.sent_at)
    )
    rows = session.execute(query).all()
    reminders = follow_ups.of_messages(session, user, [m.id for m, _ in rows])
    out: dict[str, list[dict]] = {}
    for message, summary in rows:
        status = summary_of(message, summary, reminders.get(message.id))
        out.setdefault(message.gmail_thread_id, []).append(status)
    return out
