"""The enrichment job under changing conditions: the account's switch or a contact's
do-not-enrich flag changing while lookups run, answers that must not outlive do-not-enrich,
a refused address during a refresh, and a contact whose lookups ran out of attempts."""

from __future__ import annotations

import json
from datetime import timedelta

import responses
from responses import matchers

from server.contacts import enrichment
from server.contacts import service as contacts
from server.contacts.enrichment.clearbit import ClearbitProvider
from server.extensions import db
from server.models import Account
from tests.support import clearbit
from tests.support.enrichment import POLICY, contact_of, send


def run(clock):
    return enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock)


def found_meanwhile(api, change):
    """Clearbit answers every lookup with its found answer (Ana Ruiz at Acme Corporation); while
    it handles the first request, `change(email)` runs and is committed, as an admin acting
    meanwhile would. Returns the asked addresses, in order."""
    asked = []

    def answer(request):
        asked.append(request.params["email"])
        if len(asked) == 1:
            change(asked[0])
            db.session.commit()
        return 200, {}, json.dumps(clearbit.combined())

    api.add_callback(
        responses.GET, clearbit.URL, callback=answer, content_type="application/json; charset=utf-8"
    )
    return asked


def for_address(email):
    return [matchers.query_param_matcher({"email": email})]


def test_no_lookup_after_the_account_switch_goes_off(rep, clock, api):
    user, _ = rep
    send(user, "a@acme.com", "b@acme.com", "c@acme.com")

    def switch_off(_email):
        db.session.get(Account, user.account_id).tracking_enabled = False

    asked = found_meanwhile(api, switch_off)
    outcomes = run(clock)
    assert len(asked) == len(api.calls) == 1 and outcomes == {"off": 3}
    first = contact_of(user, asked[0])
    assert first.name == "" and first.enrichment.person is None  # the answer came too late


def test_do_not_enrich_during_a_lookup_skips_that_answer_and_the_rest_go_on(rep, clock, api):
    user, _ = rep
    send(user, "a@acme.com", "b@acme.com")

    def refuse(email):
        contact = contacts.find_contact(db.session, user.account_id, email)
        contacts.update_contact(db.session, contact, {"do_not_enrich": True})

    asked = found_meanwhile(api, refuse)
    outcomes = run(clock)
    assert len(asked) == 2 and outcomes == {"off": 1, "found": 1}
    refused = contact_of(user, asked[0])
    assert refused.enrichment is None and refused.name == ""
    assert contact_of(user, asked[1]).name == "Ana Ruiz"


def test_do_not_enrich_set_directly_during_a_lookup_is_honoured(rep, clock, api):
    user, _ = rep
    send(user, "a@acme.com")

    def flag(email):
        contacts.find_contact(db.session, user.account_id, email).do_not_enrich = True

    found_meanwhile(api, flag)
    assert run(clock) == {"off": 1}
    contact = contact_of(user, "a@acme.com")
    assert contact.name == "" and contact.enrichment.person is None


def test_one_failing_row_never_stops_the_others(rep, clock, api, monkeypatch):
    user, _ = rep
    send(user, "a@acme.com", "b@acme.com")
    # Fault injection into our own code: a failure while storing one answer (the disk filling
    # up, say) is not something any answer from Clearbit can cause.
    real = enrichment._store

    def store(session, row, result, now):
        if row.contact.email == "a@acme.com":
            raise RuntimeError("disk full")
        real(session, row, result, now)

    monkeypatch.setattr(enrichment, "_store", store)
    api.get(clearbit.URL, json=clearbit.combined())
    outcomes = run(clock)
    assert outcomes == {"failed": 1, "found": 1}
    assert contact_of(user, "b@acme.com").name == "Ana Ruiz"


def test_fields_of_the_wrong_type_in_an_answer_are_ignored(rep, clock, api):
    user, _ = rep
    send(user, "a@acme.com")
    odd = clearbit.combined()
    odd["person"]["name"]["fullName"] = 5
    odd["company"]["tech"] = 3
    odd["company"]["metrics"]["employees"] = "many"
    api.get(clearbit.URL, json=odd)
    assert run(clock) == {"found": 1}
    contact = contact_of(user, "a@acme.com")
    assert contact.name in (None, "")  # no name from a number
    assert contact.enrichment.status == "found"


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
