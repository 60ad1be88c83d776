"""Tracked mail as a list: the messages a person may see, searched, filtered by what happened,
newest first, with their status read from the summaries (never from events); and one message's
page: each hit in words, machine hits apart, clicks per link."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from server.common.inputs import like_pattern
from server.messages import service
from server.models import Event, Message, MessageSummary, Recipient, User
from server.tracking.events import event_view, shown

FILTERS = {
    "opened_not_replied": "Opened, no reply",
    "clicked": "Clicked",
    "bounced": "Bounced",
    "no_activity": "No activity",
}
MAX_LIMIT = 200
EVENT_LIMIT = 1000


def _zero(column):
    return func.coalesce(column, 0) == 0


def _filtered(query, name: str):
    """The query narrowed to one of FILTERS (an unknown name narrows nothing)."""
    s = MessageSummary
    if name == "opened_not_replied":  # a click implies an open
        return query.where(or_(s.opens > 0, s.clicks > 0), _zero(s.replies))
    if name == "clicked":
        return query.where(s.clicks > 0)
    if name == "bounced":
        return query.where(s.bounces > 0)
    if name == "no_activity":
        quiet = [_zero(c) for c in (s.opens, s.clicks, s.replies, s.bounces)]
        return query.where(and_(*quiet))
    return query


def _searched(query, q: str):
    """Subject or a recipient's address or name containing `q` (typed % and _ are literal)."""
    if not q.strip():
        return query
    like = like_pattern(q)
    recipient = exists().where(
        Recipient.message_id == Message.id,
        or_(
            func.lower(Recipient.email).like(like, escape="\\"),
            func.lower(Recipient.name).like(like, escape="\\"),
        ),
    )
    return query.where(or_(func.lower(Message.subject).like(like, escape="\\"), recipient))


def messages_page(
    session: Session, user: User, q: str = "", filter_: str = "", limit: int = 50, offset: int = 0
) -> dict:
    """A page of the messages `user` may see (a rep their own, an admin the account's), newest
    first, matching `q` and the filter, each with its status; and how many match."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = service.visible_messages(user).outerjoin(
        MessageSummary, MessageSummary.message_id == Message.id
    )
    query = _searched(_filtered(query, filter_), q)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    newest = func.coalesce(Message.sent_at, Message.created_at).desc()
    page = (
        query.add_columns(MessageSummary)
        .options(selectinload(Message.recipients))
        .order_by(newest, Message.id)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(page).all()
    senders = _senders(session, user, [m.user_id for m, _ in rows])
    items = [service.summary_of(m, s) | {"sender": senders.get(m.user_id)} for m, s in rows]
    return {"messages": items, "total": total, "limit": limit, "offset": offset}


def _senders(session: Session, user: User, user_ids: list[int]) -> dict[int, str]:
    """The senders' addresses, for an admin's list (a rep's list is all their own)."""
    if not user.is_admin or not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.email).where(
            User.id.in_(set(user_ids)), User.account_id == user.account_id
        )
    )
    return dict(rows.all())


def message_page(session: Session, user: User, mid: str) -> dict | None:
    """One message the user may see: its status, recipients, every hit in words (the lead's
    first, machine ones apart) and clicks per link; None when there is none."""
    message = session.scalar(service.visible_messages(user).where(Message.id == mid))
    if message is None:
        return None
    events = session.scalars(
        select(Event)
        .where(Event.message_id == mid, Event.account_id == user.account_id)
        .order_by(Event.occurred_at.desc())
        .limit(EVENT_LIMIT)
    ).all()
    hits = [shown(event_view(e)) for e in events]
    real, machine = [], []
    for hit in hits:  # a bounce is machine-made but is the lead's news, so it stays in view
        counted = hit["explained"]["counted"] or hit["kind"] == "bounce"
        (real if counted else machine).append(hit)
    clicks = Counter(h["link"] for h in real if h["kind"] == "click")
    machine_clicks = Counter(h["link"] for h in machine if h["kind"] == "click")
    links = [
        {"url": link.url, "clicks": clicks.pop(link.url, 0), "machine": machine_clicks[link.url]}
        for link in message.links
    ]
    # Clicks on links the message does not list (reported without its HTML).
    links += [
        {"url": url, "clicks": n, "machine": machine_clicks[url]} for url, n in clicks.items()
    ]
    summary = session.get(MessageSummary, mid)
    return service.summary_of(message, summary) | {
        "hits": real,
        "machine_hits": machine,
        "link_clicks": links,
    }
