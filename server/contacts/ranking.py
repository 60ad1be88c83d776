"""Hot leads: the account's contacts searched, filtered by engagement and company, and sorted
by score, last activity, company or address, for 10,000 contacts and more.

Only contacts with a scored hit on a message the viewer may see can have a score above 0 or a
last activity, so only those are scored (engagement.scores, a chunk at a time); the others
follow them, ordered by address, read a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from server.common.inputs import like_pattern
from server.contacts import engagement
from server.models import Company, Contact, ContactAddress, Event, Message, Recipient, User
from server.models.message import REAL_VERDICTS

SORTS = {
    "score": "Score",
    "last_activity": "Last activity",
    "company": "Company",
    "email": "Address",
}
CHUNK = 500  # contacts scored per engagement.scores call: bounded IN lists on every database


@dataclass(frozen=True)
class Order:
    """How the list is sorted and narrowed: `min_score` 0 and `active_days` 0 narrow nothing."""

    sort: str = "email"
    company: str = ""
    min_score: int = 0
    active_days: int = 0

    @property
    def by_engagement(self) -> bool:
        """Whether the order or a filter needs every matching contact's score."""
        return self.sort in ("score", "last_activity") or bool(self.min_score or self.active_days)


def matching(account_id: int, q: str = "", company: str = ""):
    """A select of the account's contacts (company joined) whose address, name, title or company
    contains `q`, and whose company name contains `company`."""
    query = (
        select(Contact)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Contact.account_id == account_id)
    )
    if q.strip():
        like = like_pattern(q)
        columns = (Contact.email, Contact.email_display, Contact.name, Contact.title, Company.name)
        query = query.where(or_(*(func.lower(c).like(like, escape="\\") for c in columns)))
    if company.strip():
        query = query.where(func.lower(Company.name).like(like_pattern(company), escape="\\"))
    return query


def _scored_contacts(user: User):
    """A select of the ids of contacts with a hit the score counts, on a message `user` may see
    (one uncorrelated subquery: the database runs it once, not once per contact)."""
    query = (
        select(ContactAddress.contact_id)
        .join(Recipient, Recipient.email == ContactAddress.email)
        .join(Message, Message.id == Recipient.message_id)
        .join(Event, Event.message_id == Message.id)
        .where(
            ContactAddress.account_id == user.account_id,
            Message.account_id == user.account_id,
            Event.account_id == user.account_id,
            Event.verdict.in_(REAL_VERDICTS),
            Event.kind.in_(list(engagement.WEIGHTS)),
        )
    )
    return query if user.is_admin else query.where(Message.user_id == user.id)


def _sort_key(sort: str):
    def key(row):
        _id, email, company, (points, last) = row
        stamp = -last.timestamp() if last else float("inf")
        if sort == "score":
            return (-points, stamp, email)
        if sort == "last_activity":
            return (stamp, -points, email)
        if sort == "company":
            return (company is None, (company or "").lower(), email)
        return (email,)

    return key


def _engaged(session: Session, user: User, base, order: Order, now: datetime) -> list[tuple]:
    """(id, email, company name, (score, last activity)) of the matching contacts with a scored
    hit, kept by the filters, sorted."""
    found = session.execute(
        base.with_only_columns(Contact.id, Contact.email, Company.name).where(
            Contact.id.in_(_scored_contacts(user))
        )
    ).all()
    viewer = None if user.is_admin else user.id
    scored: dict[int, tuple] = {}
    ids = [row[0] for row in found]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        scored |= engagement.scores(session, user.account_id, chunk, viewer, now)
    since = now - timedelta(days=order.active_days) if order.active_days else None
    rows = [
        (cid, email, company, scored[cid])
        for cid, email, company in found
        if scored[cid][0] >= order.min_score
        and (since is None or (scored[cid][1] is not None and scored[cid][1] >= since))
    ]
    return sorted(rows, key=_sort_key(order.sort))


def ranked(
    session: Session, user: User, now: datetime, q: str, order: Order, limit: int, offset: int
) -> tuple[list[Contact], int, dict[int, tuple]]:
    """A page of contacts matching `q` in `order`, how many match, and the page's (score, last
    activity) by contact id."""
    base = matching(user.account_id, q, order.company)
    viewer = None if user.is_admin else user.id
    if not order.by_engagement:
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        first = (
            (Company.name.is_(None), func.lower(Company.name)) if order.sort == "company" else ()
        )
        page = _load(session, base.order_by(*first, Contact.email).limit(limit).offset(offset))
        scores = engagement.scores(session, user.account_id, [c.id for c in page], viewer, now)
        return page, total, scores
    engaged = _engaged(session, user, base, order, now)
    scores = {row[0]: row[3] for row in engaged[offset : offset + limit]}
    page = _by_ids(session, list(scores))
    if order.min_score or order.active_days:
        return page, len(engaged), scores
    # The contacts with nothing scored follow, by address: score 0, no last activity.
    rest = base.where(Contact.id.not_in(_scored_contacts(user)))
    total = len(engaged) + (session.scalar(select(func.count()).select_from(rest.subquery())) or 0)
    if len(page) < limit:
        skip = max(0, offset - len(engaged))
        quiet = _load(session, rest.order_by(Contact.email).limit(limit - len(page)).offset(skip))
        page += quiet
        scores |= {c.id: (0, None) for c in quiet}
    return page, total, scores


def _load(session: Session, query) -> list[Contact]:
    loads = (selectinload(Contact.company), selectinload(Contact.enrichment))
    return list(session.scalars(query.options(*loads)).all())


def _by_ids(session: Session, ids: list[int]) -> list[Contact]:
    """The contacts of `ids`, in that order."""
    if not ids:
        return []
    found = {c.id: c for c in _load(session, select(Contact).where(Contact.id.in_(ids)))}
    return [found[i] for i in ids]
