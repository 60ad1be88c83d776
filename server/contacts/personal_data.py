"""The contacts-and-enrichment provider of the personal-data registry.

Registered after the messages provider (server/__init__.py), so an erasure finds the person's
recipient rows under every spelling the contact was seen with before the contact (and its
addresses) is removed; `aliases` is registered as a source of those spellings.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.common.personal_data import Provider
from server.contacts import service as contacts
from server.models import Company, Contact, ContactAddress, Enrichment

FIELDS = ("name", "title", "phone", "notes", "company_name")


def aliases(session: Session, account_id: int, email: str) -> set[str]:
    """Every address the person's contact was seen under (recipients store these)."""
    contact = contacts.find_contact(session, account_id, email)
    if contact is None:
        return set()
    return {contact.email, *(a.email for a in contact.addresses)}


def find(session: Session, account_id: int, email: str) -> dict:
    """The contact and what the enrichment provider said about them."""
    held = contacts.personal_data(session, account_id, email)
    return {
        "contact": [held["contact"]] if held.get("contact") else [],
        "enrichment": [held["enrichment"]] if held.get("enrichment") else [],
    }


def erase(session: Session, account_id: int, email: str) -> int:
    """Delete the contact with its enrichment, addresses and (if now empty) company."""
    return contacts.erase_contact(session, account_id, email)


def rectify(session: Session, account_id: int, email: str, changes: dict) -> int:
    """Correct the contact's fields."""
    contact = contacts.find_contact(session, account_id, email)
    if contact is None:
        return 0
    contacts.update_contact(session, contact, {k: v.strip() for k, v in changes.items()})
    return 1


def erase_account(session: Session, account_id: int, mode: str) -> int:
    """Delete every contact, or keep rows without identity; enrichment goes in both modes."""
    count = session.execute(delete(Enrichment).where(Enrichment.account_id == account_id)).rowcount
    count += session.execute(
        delete(ContactAddress).where(ContactAddress.account_id == account_id)
    ).rowcount
    if mode == "delete":
        count += session.execute(delete(Contact).where(Contact.account_id == account_id)).rowcount
        count += session.execute(delete(Company).where(Company.account_id == account_id)).rowcount
        return count
    for contact in session.scalars(select(Contact).where(Contact.account_id == account_id)):
        contact.email = contact.email_display = f"contact-{contact.id}@anonymized.invalid"
        contact.name, contact.title, contact.phone, contact.notes = "", "", None, ""
        count += 1
    # A company's domain and name can point at one person (a sole trader): blanked too.
    session.execute(
        update(Company).where(Company.account_id == account_id).values(domain=None, name="")
    )
    return count


PROVIDER = Provider(
    name="contacts",
    find=find,
    erase=erase,
    erase_account=erase_account,
    fields=FIELDS,
    rectify=rectify,
    tables=("contacts", "contact_addresses", "enrichments", "companies"),
)
