"""Contacts from recipients: de-duplication, companies, edits, erasure; tracking never blocked."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.contacts import service as contacts
from server.extensions import db
from server.messages import service as messages
from server.models import Company, Contact, ContactAddress, Enrichment, Message

TRACKER = messages.Tracker("http://track.test", ("test-link-secret",))


def send(user, *addresses, subject="Hello"):
    """Register a message to `addresses` as the extension would."""
    data = {"subject": subject, "recipients": [{"email": a, "name": ""} for a in addresses]}
    message, _ = messages.register(db.session, user, data, TRACKER)
    db.session.commit()
    return message


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_recipients_become_one_contact_per_normalized_address(rep):
    user, _ = rep
    send(user, "Ana.Ruiz@Acme.com", "jo.doe+leads@gmail.com")
    send(user, "ana.ruiz@acme.com", "JoDoe@googlemail.com", "bo@acme.com")
    assert sorted(c.email for c in db.session.scalars(select(Contact))) == [
        "ana.ruiz@acme.com",
        "bo@acme.com",
        "jodoe@gmail.com",
    ]
    jo = contacts.find_contact(db.session, user.account_id, "J.O.DOE@gmail.com")
    assert jo.email_display == "jo.doe+leads@gmail.com"
    assert sorted(a.email for a in jo.addresses) == [
        "jo.doe+leads@gmail.com",
        "jodoe@googlemail.com",
    ]
    assert jo.company is None  # free mail says nothing about an employer
    ana = contacts.find_contact(db.session, user.account_id, "ana.ruiz@acme.com")
    assert ana.company.domain == "acme.com" and ana.company.name == "Acme"
    assert count(Company) == 1


def test_contacts_are_per_account(make_user):
    one, _ = make_user("rep@one.test", account="One")
    two, _ = make_user("rep@two.test", account="Two")
    send(one, "ana@acme.com")
    send(two, "ana@acme.com")
    assert count(Contact) == 2 and count(Company) == 2
    assert contacts.find_contact(db.session, one.account_id, "ana@acme.com").account_id == (
        one.account_id
    )


def test_enrichment_is_requested_only_for_tracked_mail(rep):
    user, _ = rep
    send(user, "ana@acme.com")
    assert db.session.scalar(select(Enrichment)).status == "pending"
    user.account.tracking_enabled = False
    db.session.commit()
    send(user, "bo@acme.com")
    bo = contacts.find_contact(db.session, user.account_id, "bo@acme.com")
    assert bo is not None and bo.enrichment is None


def test_a_contact_failure_never_blocks_the_message(rep, monkeypatch):
    user, _ = rep

    def broken(*_args, **_kwargs):
        raise RuntimeError("the company table is on fire")

    monkeypatch.setattr(contacts, "company_for_domain", broken)
    message = send(user, "ana@acme.com", "jo@gmail.com")
    assert db.session.get(Message, message.id).recipients[0].email == "ana@acme.com"
    # The free-mail recipient needs no company, so it still became a contact.
    assert [c.email for c in db.session.scalars(select(Contact))] == ["jo@gmail.com"]


def test_edits_and_company_names(rep):
    user, _ = rep
    send(user, "ana@acme.com", "bo@acme.com", "jo@gmail.com")
    ana = contacts.find_contact(db.session, user.account_id, "ana@acme.com")
    contacts.update_contact(
        db.session, ana, {"name": "Ana Ruiz", "title": "CTO", "phone": "+1 555", "notes": "hi"}
    )
    contacts.update_contact(db.session, ana, {"company_name": "Acme Corporation"})
    db.session.commit()
    bo = contacts.find_contact(db.session, user.account_id, "bo@acme.com")
    assert bo.company.name == "Acme Corporation"  # the domain's company was renamed
    jo = contacts.find_contact(db.session, user.account_id, "jo@gmail.com")
    contacts.update_contact(db.session, jo, {"company_name": "acme corporation"})
    assert jo.company_id == ana.company_id  # an existing company, matched by name
    contacts.update_contact(db.session, jo, {"company_name": "Freelance Ltd", "phone": ""})
    assert jo.company.domain is None and jo.company.name == "Freelance Ltd" and jo.phone is None
    contacts.update_contact(db.session, jo, {"company_name": None})
    assert jo.company is None
    assert (ana.name, ana.title, ana.phone, ana.notes) == ("Ana Ruiz", "CTO", "+1 555", "hi")


def test_search(rep):
    user, _ = rep
    send(user, "ana@acme.com", "bo@globex.com", "jo@gmail.com")
    jo = contacts.find_contact(db.session, user.account_id, "jo@gmail.com")
    contacts.update_contact(db.session, jo, {"name": "Jo Acmeson"})
    rows, total = contacts.search(db.session, user.account_id, "ACME")
    assert [c.email for c in rows] == ["ana@acme.com", "jo@gmail.com"] and total == 2
    rows, total = contacts.search(db.session, user.account_id, "", limit=1, offset=1)
    assert [c.email for c in rows] == ["bo@globex.com"] and total == 3
    assert contacts.search(db.session, user.account_id, "%")[1] == 0  # literal, not a wildcard
    assert contacts.search(db.session, user.account_id, "o_g")[1] == 0


def test_do_not_enrich_removes_what_was_stored(rep):
    user, _ = rep
    send(user, "ana@acme.com")
    ana = contacts.find_contact(db.session, user.account_id, "ana@acme.com")
    ana.enrichment.person = {"name": {"full": "Ana"}}
    db.session.commit()
    contacts.update_contact(db.session, ana, {"do_not_enrich": True})
    db.session.commit()
    assert count(Enrichment) == 0


def test_erase_removes_contact_enrichment_addresses_and_orphan_company(rep):
    user, _ = rep
    send(user, "Ana+x@acme.com", "bo@acme.com", "ed@globex.com")
    assert contacts.personal_data(db.session, user.account_id, "ana+x@acme.com")["contact"][
        "addresses"
    ] == ["ana+x@acme.com"]
    assert contacts.erase_contact(db.session, user.account_id, "ANA+X@acme.com") == 3
    assert contacts.erase_contact(db.session, user.account_id, "ed@globex.com") == 3
    db.session.commit()
    assert [c.email for c in db.session.scalars(select(Contact))] == ["bo@acme.com"]
    assert [c.domain for c in db.session.scalars(select(Company))] == ["acme.com"]
    assert count(Enrichment) == 1 and count(ContactAddress) == 1
    assert contacts.erase_contact(db.session, user.account_id, "nobody@acme.com") == 0
    assert contacts.personal_data(db.session, user.account_id, "ana+x@acme.com") == {}


def test_a_company_name_prefers_the_current_then_the_own_domains_company(rep):
    user, _ = rep
    pair = [("ana@acme.com", ""), ("bo@acme.io", "")]
    contacts.add_recipients(db.session, user.account_id, pair, enrich=False)
    bo = contacts.find_contact(db.session, user.account_id, "bo@acme.io")
    contacts.update_contact(db.session, bo, {"company_name": "Acme"})  # unchanged
    assert bo.company.domain == "acme.io"
    contacts.update_contact(db.session, bo, {"company_name": "Globex"})
    assert (bo.company.domain, bo.company.name) == ("acme.io", "Globex")  # own domain renamed
    ana = contacts.find_contact(db.session, user.account_id, "ana@acme.com")
    contacts.update_contact(db.session, ana, {"company_name": "Initech"})
    contacts.update_contact(db.session, bo, {"company_name": "initech"})
    assert bo.company.domain == "acme.com"  # the only company of that name
    contacts.update_contact(db.session, bo, {"company_name": "globex"})
    assert bo.company.domain == "acme.io"  # the own domain's company of that name


@pytest.mark.parametrize(
    "changes",
    [{"name": "x" * 201}, {"title": "x" * 201}, {"phone": "1" * 51}, {"notes": "x" * 10_001},
     {"company_name": "x" * 201}, {"phone": "=1+1"}, {"phone": "555\n0100"}],
)  # fmt: skip
def test_an_edit_too_long_or_with_a_bad_phone_changes_nothing(rep, changes):
    send(rep[0], "ana@customer.test")
    contact = db.session.scalars(select(Contact)).one()
    with pytest.raises(contacts.ContactError):
        contacts.edit_contact(db.session, contact, {"name": "Ana"} | changes, rep[0])
    db.session.rollback()
    assert db.session.scalars(select(Contact)).one().name == ""
    limits = {"name": "x" * 200, "notes": "x" * 10_000, "phone": "+1 (555) 0100"}
    assert contacts.edit_contact(db.session, contact, limits, rep[0]).name == "x" * 200
