"""Writing and removing the demo world (demo.py) in a named account, in bulk, through the real
models: messages, recipients, links, events, and their summaries built by the same roll-up the
event writer uses, so every page and count agrees with the events.

Seeding is never automatic: a command names the account, an account with real data is refused
unless forced, and demo rows are told apart by their reserved addresses (demo reps on
`demo.invalid`, contacts and companies on `.example`). No webhook fires for demo rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from server.common import signing
from server.extensions import db
from server.models import (
    Account,
    Backtest,
    Company,
    Contact,
    ContactAddress,
    Event,
    FollowUp,
    Link,
    Message,
    MessageSummary,
    Recipient,
    ReportRollup,
    SelfView,
    SigningKey,
    User,
)
from server.predictions import demo
from server.tracking.summaries import add_to_summaries, mark_report_days

CHUNK = 5000
SUBJECTS = (
    "Quick question about {c}",
    "Idea for {c}",
    "Following up",
    "{c} and us",
    "Pricing for {c}",
    "Intro call next week?",
)


class SeedError(Exception):
    """The account cannot take demo data (it has real data, or demo data already)."""


def _demo_users(session: Session, account_id: int):
    return select(User.id).where(
        User.account_id == account_id, User.email.like(f"%@{demo.REP_DOMAIN}")
    )


def real_data(session: Session, account_id: int) -> int:
    """How many messages and contacts of the account are not demo rows."""
    messages = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.account_id == account_id,
            Message.user_id.not_in(_demo_users(session, account_id)),
        )
    )
    contacts = session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.account_id == account_id, Contact.email.not_like(f"%{demo.COMPANY_TLD}"))
    )
    return messages + contacts


def seed(
    session: Session,
    account_name: str,
    contacts: int,
    months: int,
    *,
    force: bool = False,
    seed_value: int = 7,
    now: datetime | None = None,
) -> dict[str, int]:
    """Create the demo world in the named account (created if missing); rows written per kind."""
    account = session.scalar(select(Account).where(Account.name == account_name))
    if account is None:
        account = Account(name=account_name)
        session.add(account)
        session.flush()
    if session.scalar(
        select(func.count()).select_from(_demo_users(session, account.id).subquery())
    ):
        raise SeedError(f"{account_name!r} has demo data already: run `demo clear` first.")
    if real_data(session, account.id) and not force:
        raise SeedError(f"{account_name!r} has real messages or contacts; --force to add anyway.")
    rng = random.Random(seed_value)
    end = (now or datetime.now(UTC)).timestamp()
    world = demo.world(rng, contacts, account.id)
    demo.simulate(rng, world, end - months * 30 * demo.DAY, end)
    keys = _reps(session, account.id, world)
    companies = _companies(session, account.id, world)
    _contacts(session, account.id, world, companies)
    _messages(session, account.id, world, keys, rng)
    _events(session, account.id, world, keys)
    # Reports read per-day roll-ups: every demo rep-day is stale until a report or the job
    # builds it (the events' batch marked only the days with hits; quiet days were sent too).
    demo_users = _demo_users(session, account.id)
    mark_report_days(session.connection(), Message, Message.user_id.in_(demo_users))
    return {
        "reps": len(world.reps),
        "companies": len(world.companies),
        "contacts": len(world.people),
        "messages": len(world.messages),
        "events": len(world.events),
    }


def _reps(session: Session, account_id: int, world: demo.Demo) -> dict[str, tuple[int, str]]:
    keys = {}
    for rep in world.reps:
        user = User(account_id=account_id, email=rep["email"], name=rep["name"], role="rep")
        session.add(user)
        session.flush()
        key = SigningKey(kid=signing.new_kid(), user_id=user.id, account_id=account_id)
        session.add(key)
        keys[rep["email"]] = (user.id, key.kid)
    session.flush()
    return keys


def _companies(session: Session, account_id: int, world: demo.Demo) -> dict[str, int]:
    rows = [
        {"account_id": account_id, "domain": c.domain, "name": c.name, "name_source": "domain"}
        for c in world.companies
    ]
    session.execute(insert(Company), rows)
    found = session.execute(
        select(Company.domain, Company.id).where(
            Company.account_id == account_id, Company.domain.like(f"%{demo.COMPANY_TLD}")
        )
    )
    return dict(found.all())


def _contacts(session: Session, account_id: int, world: demo.Demo, companies: dict) -> None:
    rows = [
        {
            "account_id": account_id,
            "email": p.email,
            "email_display": p.email,
            "name": p.name,
            "title": p.title,
            "company_id": companies[p.company.domain],
        }
        for p in world.people
    ]
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(Contact), rows[i : i + CHUNK])
    # Each contact's address as recipients store it: scores, timelines and exports find a
    # contact's mail through these rows, as they do for contacts saved by the service.
    ids = select(Contact.id, Contact.email).where(
        Contact.account_id == account_id, Contact.email.like(f"%{demo.COMPANY_TLD}")
    )
    addresses = [
        {"account_id": account_id, "contact_id": cid, "email": email}
        for cid, email in session.execute(ids)
    ]
    for i in range(0, len(addresses), CHUNK):
        session.execute(insert(ContactAddress), addresses[i : i + CHUNK])


def _messages(session, account_id: int, world: demo.Demo, keys: dict, rng) -> None:
    """Messages, recipients and links in bulk; each simulated message learns its id."""
    messages, recipients, links = [], [], []
    for m in world.messages:
        mid = signing.new_message_id()
        user_id, kid = keys[m["rep"]["email"]]
        sent = datetime.fromtimestamp(m["sent_at"], UTC)
        person = m["person"]
        subject = rng.choice(SUBJECTS).format(c=person.company.name)
        messages.append(
            {
                "id": mid,
                "account_id": account_id,
                "user_id": user_id,
                "kid": kid,
                "subject": subject,
                "sent_at": sent,
                "confirmed_at": sent,
                "created_at": sent,
                "gmail_thread_id": m["thread"],
                "tracked": True,
                "track_opens": True,
                "track_links": True,
            }
        )
        recipients.append({"message_id": mid, "email": person.email, "name": person.name})
        if m["link"]:
            links.append({"message_id": mid, "position": 0, "url": "https://www.example.com/demo"})
        m["id"] = mid
    for model, rows in ((Message, messages), (Recipient, recipients), (Link, links)):
        for i in range(0, len(rows), CHUNK):
            session.execute(insert(model), rows[i : i + CHUNK])


def _events(session: Session, account_id: int, world: demo.Demo, keys: dict) -> None:
    # Ids start with the hex nanosecond time, as the hot path's do (tracking/hits.new_event_id),
    # but of when the hit happened: an activity feed whose cursor is "now" never replays them.
    rows, rolled = [], []
    for seq, e in enumerate(sorted(world.events, key=lambda e: e["at"])):
        m = e["message"]
        hit = e["kind"] in ("open", "click")
        rows.append(
            {
                "id": f"{int(e['at'] * 1e9):x}d{seq:x}",
                "account_id": account_id,
                "message_id": m["id"],
                "kid": keys[m["rep"]["email"]][1],
                "kind": e["kind"],
                "occurred_at": datetime.fromtimestamp(e["at"], UTC),
                "verdict": e["verdict"],
                "reasons": e["reasons"],
                "method": "GET" if hit else "",
                "link_url": "https://www.example.com/demo" if e["kind"] == "click" else None,
                "ip_prefix": demo.DOC_NETWORKS[seq % 3] if hit else None,
            }
            | (demo.seen_from(e) if hit else {})
        )
        rolled.append(
            {
                "message_id": m["id"],
                "account_id": account_id,
                "kind": e["kind"],
                "verdict": e["verdict"],
                "occurred_at": e["at"],
            }
        )
    conn = session.connection()
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(Event), rows[i : i + CHUNK])
        add_to_summaries(conn, rolled[i : i + CHUNK])


def clear(session: Session, account_id: int) -> dict[str, int]:
    """Remove the account's demo rows (and its backtest, made from them); rows removed per kind."""
    users = _demo_users(session, account_id)
    mids = select(Message.id).where(Message.account_id == account_id, Message.user_id.in_(users))
    out = {}
    for name, model, column in (
        ("events", Event, Event.message_id),
        ("summaries", MessageSummary, MessageSummary.message_id),
        ("links", Link, Link.message_id),
        ("recipients", Recipient, Recipient.message_id),
        ("follow_ups", FollowUp, FollowUp.message_id),
        ("self_views", SelfView, SelfView.message_id),
    ):
        out[name] = session.execute(delete(model).where(column.in_(mids))).rowcount
    out["messages"] = session.execute(delete(Message).where(Message.id.in_(mids))).rowcount
    demo_contacts = (Contact.account_id == account_id) & Contact.email.like(f"%{demo.COMPANY_TLD}")
    gone = select(Contact.id).where(demo_contacts)
    session.execute(delete(ContactAddress).where(ContactAddress.contact_id.in_(gone)))
    out["contacts"] = session.execute(delete(Contact).where(demo_contacts)).rowcount
    orphan = ~select(Contact.id).where(Contact.company_id == Company.id).exists()
    out["companies"] = session.execute(
        delete(Company).where(
            Company.account_id == account_id, Company.domain.like(f"%{demo.COMPANY_TLD}"), orphan
        )
    ).rowcount
    session.execute(delete(ReportRollup).where(ReportRollup.user_id.in_(users)))
    session.execute(delete(SigningKey).where(SigningKey.user_id.in_(users)))
    # Whatever else the demo reps left when someone signed in as one (tokens, job runs, ...).
    for table in reversed(db.metadata.sorted_tables):
        for fk in table.foreign_keys:
            if fk.column.table.name == "users" and table.name != "users":
                session.execute(delete(table).where(fk.parent.in_(users)))
    out["reps"] = session.execute(delete(User).where(User.id.in_(users))).rowcount
    session.execute(delete(Backtest).where(Backtest.account_id == account_id))
    return out
