"""The enrichment job under changing conditions: the account's switch or a contact's
do-not-enrich flag changing while lookups run, answers that must not outlive do-not-enrich,
a refused address during a refresh, and a contact whose lookups ran out of attempts."""

from __future__ import annotations

from datetime import timedelta

import responses

from server.extensions import db
from server.models import Account
from server.services import contacts, enrichment
from server.services.enrichment.clearbit import ClearbitProvider
from tests.support import clearbit
from tests.support.enrichment import POLICY, send


def contact_of(user, email):
    db.session.expire_all()
    return contacts.find_contact(db.session, user.account_id, email)


class Switching:
    """A provider whose first lookup runs `change` (as an admin would, meanwhile)."""

    name = "clearbit"

    def __init__(self, change, answer):
        self.change, self.answer, self.calls = change, answer, []

    def lookup(self, email):
        self.calls.append(email)
        if len(self.calls) == 1:
            self.change(email)
            db.session.commit()
        return self.answer


FOUND = enrichment.Lookup("found", person={"name": {"full": "Someone Else"}})


def test_no_lookup_after_the_account_switch_goes_off(rep, clock):
    user, _ = rep
    send(user, "a@acme.com", "b@acme.com", "c@acme.com")

    def switch_off(_email):
        db.session.get(Account, user.account_id).tracking_enabled = False

    provider = Switching(switch_off, FOUND)
    outcomes = enrichment.run_due(db.session, provider, POLICY, clock)
    assert len(provider.calls) == 1 and outcomes == {"off": 3}
    first = contact_of(user, provider.calls[0])
    assert first.name == "" and first.enrichment.person is None  # the answer came too late


def test_do_not_enrich_during_a_lookup_skips_that_answer_and_the_rest_go_on(rep, clock):
    user, _ = rep
    send(user, "a@acme.com", "b@acme.com")

    def refuse(email):
        contact = contacts.find_contact(db.session, user.account_id, email)
        contacts.update_contact(db.session, contact, {"do_not_enrich": True})

    provider = Switching(refuse, FOUND)
    outcomes = enrichment.run_due(db.session, provider, POLICY, clock)
    assert len(provider.calls) == 2 and outcomes == {"off": 1, "found": 1}
    refused = contact_of(user, provider.calls[0])
    assert refused.enrichment is None and refused.name == ""
    assert contact_of(user, provider.calls[1]).name == "Someone Else"


def test_do_not_enrich_set_directly_during_a_lookup_is_honoured(rep, clock):
    user, _ = rep
    send(user, "a@acme.com")

    def flag(email):
        contacts.find_contact(db.session, user.account_id, email).do_not_enrich = True

    assert enrichment.run_due(db.session, Switching(flag, FOUND), POLICY, clock) == {"off": 1}
    contact = contact_of(user, "a@acme.com")
    assert contact.name == "" and contact.enrichment.person is None


def test_one_failing_row_never_stops_the_others(rep, clock, monkeypatch):
    user, _ = rep
    send(user, "a@acme.com", "b@acme.com")
    real = enrichment._store

    def store(session, row, result, now):
        if row.contact.email == "a@acme.com":
            raise RuntimeError("disk full")
        real(session, row, result, now)

    monkeypatch.setattr(enrichment, "_store", store)
    provider = Switching(lambda _email: None, FOUND)
    outcomes = enrichment.run_due(db.session, provider, POLICY, clock)
    assert outcomes == {"failed": 1, "found": 1}
    assert contact_of(user, "b@acme.com").name == "Someone Else"


def test_do_not_enrich_removes_what_enrichment_filled_in(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com", "bo@acme.com")
    api.get(clearbit.URL, json=clearbit.combined())
    api.get(clearbit.URL, status=404, json=clearbit.NOT_FOUND)
    enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock)
    ana = contact_of(user, "ana@acme.com")
    assert (ana.name, ana.company.name_source) == ("Ana Ruiz", "enrichment")
    ana.title = "CTO"  # typed by a person: kept
    contacts.update_contact(db.session, ana, {"do_not_enrich": True})
    db.session.commit()
    ana = contact_of(user, "ana@acme.com")
    assert (ana.name, ana.title) == ("", "CTO") and ana.enrichment is None
    assert (ana.company.name, ana.company.name_source) == ("Acme", "domain")


def test_a_typed_company_name_survives_do_not_enrich(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, json=clearbit.combined())
    enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock)
    ana = contact_of(user, "ana@acme.com")
    contacts.update_contact(db.session, ana, {"company_name": "Acme Labs", "name": "Ana R."})
    contacts.update_contact(db.session, ana, {"do_not_enrich": True})
    db.session.commit()
    ana = contact_of(user, "ana@acme.com")
    assert (ana.name, ana.title, ana.company.name) == ("Ana R.", "", "Acme Labs")


def test_a_refused_address_during_a_refresh_keeps_the_earlier_answer(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, json=clearbit.combined())
    enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock)
    api.replace(responses.GET, clearbit.URL, status=422, json=clearbit.INVALID)
    clock.now += timedelta(minutes=5)
    enrichment.request(db.session, contact_of(user, "ana@acme.com"), clock.now, force=True)
    db.session.commit()
    assert enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock) == {"invalid": 1}
    row = contact_of(user, "ana@acme.com").enrichment
    assert row.status == "error" and row.next_attempt_at is None
    assert row.person["name"]["full"] == "Ana Ruiz" and row.company["name"] == "Acme Corporation"


def test_a_contact_out_of_attempts_is_asked_again_only_after_the_cache_lifetime(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, status=502, body="Bad Gateway")
    while (row := contact_of(user, "ana@acme.com").enrichment).next_attempt_at is not None:
        clock.now = max(clock.now, row.next_attempt_at)
        enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock)
    assert row.status == "error" and len(api.calls) == enrichment.MAX_ATTEMPTS
    clock.now += timedelta(days=1)
    send(user, "ana@acme.com")  # new mail within the cache lifetime: no call
    assert enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock) == {"cached": 1}
    assert len(api.calls) == enrichment.MAX_ATTEMPTS
    clock.now += POLICY.ttl
    send(user, "ana@acme.com")  # later: a fresh round of attempts
    assert enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock) == {"retry": 1}
    row = contact_of(user, "ana@acme.com").enrichment
    assert row.attempts == 1 and row.next_attempt_at == clock.now + timedelta(minutes=1)
