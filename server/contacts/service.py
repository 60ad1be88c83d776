"""Contacts: created from recipients, de-duplicated on a normalized address, edited, erased.

Every function takes the session and the account id explicitly; nothing reads the request. The
caller commits. Enrichment lives in enrichment/, engagement in engagement.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.common import audit
from server.common.addresses import (
    AddressError,
    company_domain,
    company_name_guess,
    normalize_email,
)
from server.common.inputs import InputError
from server.contacts import ranking
from server.models import Company, Contact, ContactAddress, Enrichment, User
from server.models.base import iso, utcnow
from server.webhooks import hits as webhooks

log = logging.getLogger(__name__)
EDITABLE = ("name", "title", "phone", "notes")
# What an edit may hold: the columns' sizes (notes are text, kept to a few pages), as the API's.
EDIT_LIMITS = {"name": 200, "title": 200, "phone": 50, "notes": 10_000, "company_name": 200}
PHONE = re.compile(r"[0-9A-Za-z +()./#*,;-]*")


class ContactError(InputError):
    """An edit that cannot be saved; the message says why."""


def find_contact(session: Session, account_id: int, email: str) -> Contact | None:
    """The account's contact for an address in any of its spellings, else None."""
    try:
        key = normalize_email(email)
    except AddressError:
        return None
    return session.scalar(
        select(Contact).where(Contact.account_id == account_id, Contact.email == key)
    )


def _get_or_create(session: Session, model, lookup: dict, defaults: dict):
    """The row matching `lookup`, created (in a savepoint) when missing; (row, created)."""
    row = session.scalar(select(model).filter_by(**lookup))
    if row is not None:
        return row, False
    try:
        with session.begin_nested():
            row = model(**lookup, **defaults)
            session.add(row)
    except IntegrityError:
        # Another transaction created it between our read and our insert: use theirs.
        return session.scalar(select(model).filter_by(**lookup)), False
    return row, True


def company_for_domain(session: Session, account_id: int, domain: str) -> Company:
    """The account's company of a domain, created with a name guessed from the domain."""
    company, _ = _get_or_create(
        session,
        Company,
        {"account_id": account_id, "domain": domain},
        {"name": company_name_guess(domain), "name_source": "domain"},
    )
    return company


def upsert_contact(
    session: Session, account_id: int, address: str, name: str = ""
) -> tuple[Contact, bool]:
    """The contact of an address, created (with its company) when new; (contact, created)."""
    key = normalize_email(address)
    seen = address.strip().strip("<>").strip()
    domain = company_domain(key)
    company = company_for_domain(session, account_id, domain) if domain else None
    contact, created = _get_or_create(
        session,
        Contact,
        {"account_id": account_id, "email": key},
        {"email_display": seen, "name": name[:200], "company_id": company and company.id},
    )
    if not contact.name and name:
        contact.name = name[:200]
    _remember_address(session, contact, seen.lower())
    return contact, created


def _remember_address(session: Session, contact: Contact, address: str) -> None:
    """Record the spelling recipients use, so the contact's messages can be found by it."""
    _get_or_create(
        session,
        ContactAddress,
        {"account_id": contact.account_id, "email": address},
        {"contact_id": contact.id},
    )


def add_recipients(
    session: Session, account_id: int, recipients: Iterable[tuple[str, str]], *, enrich: bool
) -> list[Contact]:
    """Make every recipient a contact; ask for enrichment of new ones when `enrich`.

    A failure here is logged and skipped: contacts must never stop a message being tracked.
    """
    from server.contacts import enrichment

    contacts = []
    for address, name in recipients:
        try:
            with session.begin_nested():
                contact, _ = upsert_contact(session, account_id, address, name)
                if enrich:
                    # A no-op while a fresh answer is cached or enrichment is off for the contact.
                    enrichment.request(session, contact, utcnow())
            contacts.append(contact)
        except Exception:  # the savepoint is rolled back; the message goes on being tracked
            log.warning("could not record a recipient as a contact", exc_info=True)
    return contacts


def search(
    session: Session, account_id: int, q: str = "", limit: int = 50, offset: int = 0
) -> tuple[list[Contact], int]:
    """The account's contacts matching `q` (address, name, title or company), and their total."""
    query = ranking.matching(account_id, q)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(Contact.email).limit(limit).offset(offset)
    loads = (selectinload(Contact.company), selectinload(Contact.enrichment))
    rows = session.scalars(page.options(*loads)).all()
    return list(rows), total or 0


def update_contact(session: Session, contact: Contact, changes: dict) -> Contact:
    """Apply edits (name, title, phone, notes, company_name, do_not_enrich) to a contact.

    Not audited: imports and rectifications record themselves; a person's edit is edit_contact.
    """
    changed = apply_changes(session, contact, changes)
    session.flush()
    if changed:
        webhooks.emit_contact(session, contact, changed)
    return contact


def apply_changes(
    session: Session, contact: Contact, changes: dict, named: list[Company] | None = None
) -> list[str]:
    """Set the edits on the contact, unflushed, with no webhook; the fields that changed.

    `named` is the account's companies of `changes["company_name"]`, oldest first, when the
    caller (an import's chunk) has them at hand; otherwise they are looked up."""
    before = _webhook_fields(contact)
    for field in EDITABLE:
        if field in changes:
            # An absent phone is NULL; the other fields are empty text.
            empty = None if field == "phone" else ""
            setattr(contact, field, changes[field] or empty)
    if "company_name" in changes:
        set_company_name(session, contact, (changes["company_name"] or "").strip(), named)
    if changes.get("do_not_enrich") is not None:
        contact.do_not_enrich = bool(changes["do_not_enrich"])
        if contact.do_not_enrich:
            forget_enrichment(session, contact)
    contact.updated_at = utcnow()
    after = _webhook_fields(contact)
    # What changed, not what was sent: a form saved as it was, or a CSV imported again, is quiet.
    return [f for f in before if before[f] != after[f]]


def _webhook_fields(contact: Contact) -> dict:
    """The fields a contact.updated webhook reports changes of, as they are now."""
    company = contact.company.name if contact.company else ""
    fields = {f: getattr(contact, f) for f in EDITABLE}
    return fields | {"company_name": company, "do_not_enrich": contact.do_not_enrich}


def check_edit(changes: dict) -> None:
    """ContactError when a field of the edit is longer than it may be or the phone is not one."""
    for field, limit in EDIT_LIMITS.items():
        if len(changes.get(field) or "") > limit:
            raise ContactError(
                f"The {field.replace('_', ' ')} is longer than {limit} characters.", field
            )
    if not PHONE.fullmatch(changes.get("phone") or ""):
        raise ContactError(
            "The phone may hold digits, letters, spaces and + ( ) . / # * , ; -", "phone"
        )


def edit_contact(session: Session, contact: Contact, changes: dict, actor: User) -> Contact:
    """A person's edit of a contact (see update_contact), recorded in the audit log; ContactError
    (nothing changed) when check_edit refuses it."""
    check_edit(changes)
    update_contact(session, contact, changes)
    audit.record(
        session, contact.account_id, "contacts.edit", actor=actor, target=f"contact #{contact.id}"
    )
    return contact


def forget_enrichment(session: Session, contact: Contact) -> None:
    """Delete the contact's enrichment and take back what it filled in on contact and company.

    Honoured everywhere: what the provider said is removed, not merely hidden.
    """
    from server.contacts.enrichment import fill

    if contact.enrichment is None:
        return
    fill.take_back(contact.enrichment)
    session.delete(contact.enrichment)
    contact.enrichment = None


def set_company_name(
    session: Session, contact: Contact, name: str, named: list[Company] | None = None
) -> None:
    """Attach the contact to the named company: an existing one, its domain's, or a new one.

    The contact's current company keeps it when its name is unchanged (a form saved untouched);
    among companies of the same name, the current one and the own domain's are preferred.
    `named` is those companies, oldest first, when the caller has them (else looked up).
    """
    current, own = contact.company, company_domain(contact.email)
    if not name:
        contact.company = None
        return
    if current is not None and current.name == name:
        return
    if named is None:
        named = session.scalars(
            select(Company)
            .where(
                Company.account_id == contact.account_id, func.lower(Company.name) == name.lower()
            )
            .order_by(Company.id)
        ).all()
    preferred = [c for c in named if c is current] + [c for c in named if own and c.domain == own]
    chosen = (preferred or named or [None])[0]
    if chosen is None and current is not None and own and current.domain == own:
        chosen = current  # correcting the name of the contact's own domain's company
    if chosen is None:
        chosen = Company(account_id=contact.account_id, domain=None)
        session.add(chosen)
    if chosen is current or chosen.domain is None:
        chosen.name, chosen.name_source = name[:200], "manual"
    contact.company = chosen


def erase_contact(session: Session, account_id: int, email: str) -> int:
    """Delete a contact with its enrichment and addresses; rows removed (0 when unknown)."""
    contact = find_contact(session, account_id, email)
    if contact is None:
        return 0
    company_id = contact.company_id
    removed = session.execute(
        delete(Enrichment).where(Enrichment.contact_id == contact.id)
    ).rowcount
    removed += session.execute(
        delete(ContactAddress).where(ContactAddress.contact_id == contact.id)
    ).rowcount
    session.expunge(contact)
    removed += session.execute(delete(Contact).where(Contact.id == contact.id)).rowcount
    if company_id is not None:
        _drop_orphan_company(session, company_id)
    session.flush()
    return removed


def _drop_orphan_company(session: Session, company_id: int) -> None:
    left = session.scalar(select(func.count()).where(Contact.company_id == company_id))
    if not left:
        session.execute(delete(Company).where(Company.id == company_id))


def personal_data(session: Session, account_id: int, email: str) -> dict:
    """Everything stored about one address as contact and enrichment (JSON-serialisable)."""
    contact = find_contact(session, account_id, email)
    if contact is None:
        return {}
    enrichment = contact.enrichment
    return {
        "contact": {
            "email": contact.email,
            "email_display": contact.email_display,
            "addresses": sorted(a.email for a in contact.addresses),
            "name": contact.name,
            "title": contact.title,
            "phone": contact.phone,
            "notes": contact.notes,
            "company": contact.company.name if contact.company else None,
            "do_not_enrich": contact.do_not_enrich,
            "created_at": iso(contact.created_at),
        },
        "enrichment": None
        if enrichment is None
        else {
            "provider": enrichment.provider,
            "status": enrichment.status,
            "fetched_at": iso(enrichment.fetched_at),
            "person": enrichment.person,
            "company": enrichment.company,
        },
    }
