"""What the context rules need to know about the messages of a batch, read in a few queries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from server.models import Event, Link, Message, SelfView
from server.tracking.summaries import to_datetime, to_timestamp
from server.tracking.verdicts.context import (
    MessageContext,
    SelfViewRow,
    Windows,
    burst_possible,
)


def load_contexts(
    conn: Connection, by_message: dict[str, list[dict]], windows: Windows, neighbours: bool = True
) -> dict:
    """Per message of the batch: sent time, link count, unexplained self-views and (with
    `neighbours`) the stored clicks near the batch's. A re-run passes all of a message's hits
    as the batch, so it needs no neighbours."""
    contexts = {mid: MessageContext() for mid in by_message}
    if not contexts:
        return contexts
    mids = list(contexts)
    for mid, sent_at in conn.execute(
        select(Message.id, Message.sent_at).where(Message.id.in_(mids))
    ):
        contexts[mid].sent_at = to_timestamp(sent_at)
    links = select(Link.message_id, func.count()).where(Link.message_id.in_(mids))
    for mid, count in conn.execute(links.group_by(Link.message_id)):
        contexts[mid].link_count = count
    times = [e["occurred_at"] for group in by_message.values() for e in group]
    lo, hi = min(times), max(times)
    # Views that could have caused a hit of the batch and have not yet explained one.
    views = select(SelfView.id, SelfView.message_id, SelfView.viewed_at).where(
        SelfView.message_id.in_(mids),
        SelfView.claimed_event_id.is_(None),
        SelfView.viewed_at.between(to_datetime(lo - windows.self_view), to_datetime(hi)),
    )
    for view_id, mid, viewed_at in conn.execute(views):
        contexts[mid].self_views.append(SelfViewRow(view_id, viewed_at.timestamp()))
    if neighbours:
        window = (to_datetime(lo - windows.burst), to_datetime(hi + windows.burst))
        _recent_clicks(conn, by_message, contexts, window)
    return contexts


def _recent_clicks(conn: Connection, by_message: dict, contexts: dict, window: tuple) -> None:
    """Stored clicks near the batch's, for messages where a burst across links is possible."""
    links: dict[str, set] = {}
    for mid, group in by_message.items():
        urls = {e["link_url"] for e in group if e["kind"] == "click"}
        if urls:
            links[mid] = urls
    if not links:
        return
    near = (Event.message_id.in_(links), Event.kind == "click", Event.occurred_at.between(*window))
    # Distinct links first: a message clicked thousands of times on one link (a campaign's
    # call to action) must not pull every one of those rows into each batch.
    for mid, url in conn.execute(select(Event.message_id, Event.link_url).where(*near).distinct()):
        links[mid].add(url)
    candidates = [m for m, urls in links.items() if burst_possible(len(urls))]
    if not candidates:
        return
    rows = select(Event.id, Event.message_id, Event.occurred_at, Event.link_url, Event.verdict)
    for eid, mid, at, url, verdict in conn.execute(
        rows.where(*near, Event.message_id.in_(candidates))
    ):
        contexts[mid].recent_clicks.append((eid, at.timestamp(), url or "", verdict))
