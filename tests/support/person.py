"""One person held in every table: a rep of the account who is also a lead, named in links,
hits, breach notes and job runs in every encoding of their address. For the erasure tests."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from server.accounts import team
from server.accounts import users as accounts
from server.common import job_runs, mail, signing
from server.contacts import service as contacts
from server.extensions import db
from server.messages import follow_ups
from server.models import (
    Breach,
    BreachAction,
    ConnectCode,
    Enrichment,
    Event,
    Link,
    Message,
    OAuthState,
    PendingHit,
    Recipient,
    SelfView,
)
from server.predictions import service as predictions
from server.privacy import data_requests, erasure_ledger, subprocessors
from server.tracking import ip_keys
from server.tracking.deidentify import key_period
from server.tracking.summaries import rebuild_summary
from server.webhooks import endpoints
from server.webhooks import hits as webhook_hits
from tests.support.google import METADATA, SIGN_IN, connect_mailbox

PERSON = "zoe.quill@northwind-lead.test"
NAME = "Zoe Quillfeather"
GOOGLE_SUB = "110169484474386276334"
OTHER = "bo.lindqvist@example.test"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def encodings(address: str = PERSON) -> list[str]:
    """The address as links and typed notes carry it."""
    escaped = quote(address, safe="")
    return [
        address.upper(),
        escaped,
        quote(escaped, safe=""),
        base64.b64encode(address.encode()).decode(),
        _b64(address),
        quote(base64.b64encode(f"u=1&email={address}&x=2".encode()).decode(), safe=""),
        _b64(f"email={escaped}&list=7"),
    ]


def message_to(user, to: list[tuple[str, str]], subject: str, **extra) -> Message:
    """A message from `user` to (address, name) recipients."""
    key = accounts.current_signing_key(db.session, user)
    message = Message(
        id=signing.new_message_id(),
        account_id=user.account_id,
        user_id=user.id,
        kid=key.kid,
        subject=subject,
        sent_at=datetime.now(UTC) - timedelta(days=1),
        recipients=[Recipient(email=e, name=n) for e, n in to],
        **extra,
    )
    db.session.add(message)
    db.session.flush()
    return message


def add_hits(message: Message, urls: list[str | None]) -> None:
    """One human hit per URL (None: an open), then the message's summary rebuilt."""
    for i, url in enumerate(urls):
        db.session.add(
            Event(
                id=f"{message.id[:20]}{i:012d}",
                account_id=message.account_id,
                message_id=message.id,
                kid=message.kid,
                kind="click" if url else "open",
                occurred_at=datetime.now(UTC) - timedelta(hours=i + 1),
                verdict="human",
                link_url=url,
                ip_prefix="203.0.113.0",
                ip_hash=f"{i:032x}",
                city="Bergen",
            )
        )
    db.session.flush()
    rebuild_summary(db.session.connection(), message.id)


def _rep_side(app, admin, google) -> tuple:
    """The person as a user: invited, then a rep with a token, key, mailbox and views."""
    team.invite(db.session, "k", admin, PERSON, "rep")
    user = accounts.create_user(db.session, PERSON, admin.account.name, name=NAME)
    accounts.create_api_token(db.session, user, label=f"{NAME}'s laptop")
    now = datetime.now(UTC)
    db.session.add(
        ConnectCode(
            digest=hashlib.sha256(b"c").hexdigest(),
            user_id=user.id,
            challenge="x" * 43,
            expires_at=now + timedelta(minutes=5),
        )
    )
    db.session.add(
        OAuthState(
            state="s" * 40,
            code_verifier="v" * 43,
            purpose="connect",
            user_id=user.id,
            scopes=METADATA,
            expires_at=now,
        )
    )
    db.session.commit()
    connect_mailbox(app, user, google, [*SIGN_IN, METADATA], name=NAME)
    sent = message_to(user, [(OTHER, "Bo")], "Our call on Tuesday")
    db.session.add(SelfView(message_id=sent.id, user_id=user.id))
    follow_ups.set_follow_up(db.session, user, sent.id, 3, now)  # a reminder the person set
    return user, sent


def _lead_side(admin, urls: list[str]) -> dict:
    """The person as a lead: their messages, links and hits in every encoding, a waiting hit."""
    own = message_to(
        admin,
        [(PERSON, NAME)],
        f"Hello {NAME}",
        gmail_message_id="g1",
        gmail_thread_id="t1",
        rfc_message_id="<m1@acme.test>",
    )
    shared = message_to(
        admin,
        [(OTHER, "Bo"), (PERSON.upper(), NAME)],
        "Intro: Bo, meet Zoe",
        gmail_message_id="g2",
        gmail_thread_id="t2",
    )
    kept = message_to(admin, [(OTHER, "Bo")], f"Re: {quote(PERSON, safe='')} asked about you")
    for position, url in enumerate([*urls, "https://shop.test/?who=bo%40example.test"]):
        db.session.add(Link(message_id=kept.id, position=position, url=url))
    add_hits(own, [None, urls[0]])
    follow_ups.set_follow_up(db.session, admin, own.id, 5, datetime.now(UTC))  # awaiting them
    add_hits(shared, [None, "https://shop.test/pricing"])
    add_hits(kept, [None, *urls])
    payload = {"id": "p" * 32, "message_id": "q" * 32, "kid": own.kid, "link_url": urls[4]}
    db.session.add(
        PendingHit(
            id="p" * 32,
            message_id="q" * 32,
            received_at=datetime.now(UTC),
            payload=json.dumps(payload),
        )
    )
    return {"own": own, "shared": shared, "kept": kept}


def _webhooks(admin, made: dict) -> None:
    """An endpoint, and events about the person waiting for it: their messages' reports (one
    naming them only in an encoded subject) and their contact's edit."""
    endpoints.create(db.session, "k", admin, {"url": "https://hooks.acme.test/in"})
    for message in (made["own"], made["shared"], made["kept"]):
        webhook_hits.emit_sent(db.session, message)
    contact = contacts.find_contact(db.session, admin.account_id, PERSON)
    webhook_hits.emit_contact(db.session, contact, ["name"])


def _records(admin, urls: list[str]) -> None:
    """The person as a contact, in a job run, a breach entry; a sub-processor beside them."""
    contact, _ = contacts.upsert_contact(db.session, admin.account_id, PERSON, NAME)
    contact.notes = f"Met at the fair; also writes as {encodings()[0]}"
    db.session.add(
        Enrichment(
            account_id=admin.account_id,
            contact_id=contact.id,
            provider="clearbit",
            status="found",
            person={"email": PERSON},
            company={"name": "Quill Studio"},
        )
    )
    run = job_runs.create(
        db.session,
        "contacts_import",
        admin,
        {},
        [{"email": PERSON, "name": NAME, "status": "created"}],
    )
    run.status, run.error = "succeeded", f"row 3: {urls[2]} is not a valid website"
    # The account's backtest: aggregates only, so it holds nothing of the person to erase.
    predictions.store(db.session, admin.account_id, {"reply": {"rate": 0.1}}, {"trained_on": 9})
    breach = Breach(
        account_id=admin.account_id,
        occurred_at=datetime.now(UTC),
        description=f"A CSV with {PERSON} and {encodings()[3]} was mailed out",
        data_affected=f"links such as {urls[5]}",
        subjects_affected=f"{encodings()[0]} and 40 others",
        reported_by=admin.id,
    )
    breach.actions.append(BreachAction(description=f"Tell {encodings()[1]} and recall the mail"))
    db.session.add(breach)
    subprocessors.add(
        db.session,
        mail.Mailer(),
        admin,
        {"name": "Hostco", "country": "DE", "purpose": "hosting", "safeguard": "EU"},
    )
    # Tables that hold nobody's data, filled too so the scan covers them: an earlier erasure's
    # digest and this period's address-hash key.
    erasure_ledger.write(db.session, admin.account_id, "erased.before@example.test", b"k")
    ip_keys.key_for(db.session.connection(), key_period(time.time(), 24))


def seed(app, admin, google) -> dict:
    """Put the person in every table; returns their user and the messages made."""
    user, sent = _rep_side(app, admin, google)
    urls = [f"https://shop.test/?who={e}" for e in encodings()]
    made = _lead_side(admin, urls)
    _records(admin, urls)
    _webhooks(admin, made)
    db.session.commit()
    # A search, and an export whose files hold everything found.
    data_requests.search(db.session, "k", admin, PERSON)
    export = data_requests.export(db.session, "k", admin, PERSON)
    db.session.commit()
    assert job_runs.perform(db.session, export.id, data_requests.write_export) == "succeeded"
    return {"user": user, "sent": sent, **made}
