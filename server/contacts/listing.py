"""Contacts as the API and the settings pages show them: summaries and the full detail.

A rep sees the account's contacts, but only the messages (and so the engagement) their role
allows: an admin the whole account's, a rep their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.contacts import engagement, enrichment, ranking
from server.models import Contact, User
from server.models.base import iso


def _viewer(user: User) -> int | None:
    """The user id that scopes messages, None for an admin (the whole account)."""
    return None if user.is_admin else user.id


def _company(contact: Contact) -> dict | None:
    firm = contact.company
    return None if firm is None else {"domain": firm.domain, "name": firm.name}


def _scored_company(session: Session, user: User, contact: Contact, now: datetime) -> dict | None:
    """The contact's company with its engagement score, as the viewer may see it."""
    firm = _company(contact)
    if firm is not None:
        scored = engagement.company_scores(
            session, user.account_id, [contact.company_id], _viewer(user), now
        )
        firm["score"] = scored[contact.company_id][0]
    return firm


def listing(
    session: Session,
    user: User,
    policy: enrichment.Policy,
    now: datetime,
    q: str = "",
    limit: int = 50,
    offset: int = 0,
    order: ranking.Order | None = None,
) -> dict:
    """A page of the account's contacts matching `q`, each with score and last activity, in
    `order` (by address when None), narrowed by its company and engagement filters."""
    order = order or ranking.Order()
    rows, total, scored = ranking.ranked(session, user, now, q, order, limit, offset)
    out = []
    for contact in rows:
        points, last = scored[contact.id]
        out.append(
            {
                "email": contact.email,
                "email_display": contact.email_display,
                "name": contact.name,
                "title": contact.title,
                "company": _company(contact),
                "do_not_enrich": contact.do_not_enrich,
                "score": points,
                "last_activity_at": iso(last),
                "enrichment_status": enrichment.view(policy, user.account, contact)["status"],
            }
        )
    return {"contacts": out, "total": total}


def detail(
    session: Session, user: User, contact: Contact, policy: enrichment.Policy, now: datetime
) -> dict:
    """Profile, enrichment, engagement and messages of one contact.

    With enrichment on and never asked for this contact, this asks (the lookup runs in the job).
    """
    if policy.configured and contact.enrichment is None:
        enrichment.request(session, contact, now)  # it checks the switch and the contact's flag
    block, messages = engagement.engagement(
        session, user.account_id, contact.id, _viewer(user), now
    )
    return {
        "email": contact.email,
        "email_display": contact.email_display,
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "notes": contact.notes,
        "do_not_enrich": contact.do_not_enrich,
        "company": _scored_company(session, user, contact, now),
        "enrichment": enrichment.view(policy, user.account, contact),
        "engagement": block,
        "messages": messages,
    }
