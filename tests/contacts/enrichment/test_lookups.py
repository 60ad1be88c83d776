"""The enrichment job's service: lookups with a cache, a per-account rate, polling, backoff,
and no call at all while enrichment is off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.contacts import enrichment
from server.contacts import service as contacts
from server.contacts.enrichment.clearbit import ClearbitProvider
from server.extensions import db
from server.models import Enrichment
from tests.support import clearbit
from tests.support.enrichment import POLICY, contact_of, send


def run(clock, policy=POLICY):
    return enrichment.run_due(db.session, ClearbitProvider(policy.api_key), policy, clock)


def found(user, clock, api, address="ana@acme.com"):
    """Mail `address`, let Clearbit know the person and company; the stored enrichment row."""
    send(user, address)
    api.get(clearbit.URL, json=clearbit.combined())
    assert run(clock) == {"found": 1}
    return contact_of(user, address.lower()).enrichment


def test_found_is_stored_with_provider_and_time_and_fills_blanks(rep, clock, api):
    user, _ = rep
    row = found(user, clock, api, "Ana@acme.com")
    assert row.status == "found" and row.fetched_at == clock.now and row.next_attempt_at is None
    stamp = clock.now.isoformat().replace("+00:00", "Z")
    assert row.person["provider"] == row.company["provider"] == "clearbit"
    assert row.person["fetched_at"] == row.company["fetched_at"] == stamp
    assert row.company["technologies"] == ["google_analytics", "stripe", "salesforce"]
    ana = row.contact
    assert (ana.name, ana.title) == ("Ana Ruiz", "Chief Technology Officer")
    assert (ana.company.name, ana.company.name_source) == ("Acme Corporation", "enrichment")
    assert run(clock) == {} and len(api.calls) == 1


def test_queued_is_polled_later_then_found(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, status=202, body="")
    api.get(clearbit.URL, json=clearbit.combined())
    assert run(clock) == {"queued": 1}
    row = contact_of(user, "ana@acme.com").enrichment
    assert row.status == "queued" and row.next_attempt_at == clock.now + timedelta(minutes=1)
    assert run(clock) == {} and len(api.calls) == 1  # not yet due
    clock.advance(minutes=1)
    assert run(clock) == {"found": 1}
    assert contact_of(user, "ana@acme.com").enrichment.status == "found"


def test_rate_limited_waits_at_least_retry_after(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    headers = clearbit.RATE_HEADERS | {"Retry-After": "600"}
    api.get(clearbit.URL, status=429, json=clearbit.RATE_LIMITED, headers=headers)
    api.get(clearbit.URL, json=clearbit.combined())
    assert run(clock) == {"retry": 1}
    row = contact_of(user, "ana@acme.com").enrichment
    assert row.status == "pending" and row.next_attempt_at == clock.now + timedelta(seconds=600)
    clock.advance(seconds=599)
    assert run(clock) == {}
    clock.advance(seconds=1)
    assert run(clock) == {"found": 1}


def test_server_errors_back_off_then_give_up(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, status=502, body="Bad Gateway")
    waits = []
    while (row := contact_of(user, "ana@acme.com").enrichment).next_attempt_at is not None:
        clock.now = max(clock.now, row.next_attempt_at)
        before = clock.now
        run(clock)
        after = contact_of(user, "ana@acme.com").enrichment.next_attempt_at
        if after is not None:
            waits.append((after - before).total_seconds())
    assert waits == [60, 120, 240, 480, 960, 1920, 3840]
    row = contact_of(user, "ana@acme.com").enrichment
    assert len(api.calls) == enrichment.MAX_ATTEMPTS
    assert row.status == "error" and row.error == "http 502"


def test_not_found_is_remembered_until_the_cache_expires(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, status=404, json=clearbit.NOT_FOUND)
    assert run(clock) == {"not_found": 1}
    send(user, "ana@acme.com")  # new mail leaves the lookup alone: the answer is cached
    clock.advance(days=1)
    assert run(clock) == {} and len(api.calls) == 1
    assert contact_of(user, "ana@acme.com").enrichment.status == "not_found"
    clock.advance(days=30)
    send(user, "ana@acme.com")
    assert run(clock) == {"not_found": 1} and len(api.calls) == 2


def test_a_send_with_a_fresh_answer_cached_queues_nothing(rep, clock, api):
    user, _ = rep
    row = found(user, clock, api)
    before = (row.requested_at, row.next_attempt_at, row.attempts)
    send(user, "ana@acme.com")
    row = contact_of(user, "ana@acme.com").enrichment
    assert (row.requested_at, row.next_attempt_at, row.attempts) == before
    assert before[1] is None and row.status == "found"


def test_the_job_still_checks_the_cache_of_a_due_row(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, status=404, json=clearbit.NOT_FOUND)
    run(clock)
    # Due despite a fresh answer: queued by a server with a shorter cache lifetime, say.
    contact_of(user, "ana@acme.com").enrichment.next_attempt_at = clock.now
    db.session.commit()
    assert run(clock) == {"cached": 1} and len(api.calls) == 1
    assert contact_of(user, "ana@acme.com").enrichment.next_attempt_at is None


def test_manual_refresh_bypasses_the_cache(rep, clock, api):
    user, _ = rep
    found(user, clock, api)
    clock.advance(minutes=5)
    enrichment.request(db.session, contact_of(user, "ana@acme.com"), clock.now, force=True)
    db.session.commit()
    assert run(clock) == {"found": 1} and len(api.calls) == 2


def test_no_call_at_all_while_enrichment_is_off(rep, clock, api):
    user, _ = rep
    send(user, "ana@acme.com", "bo@acme.com")
    assert run(clock, enrichment.Policy(api_key="")) == {}  # no key
    user.account.tracking_enabled = False
    db.session.commit()
    assert run(clock) == {}  # the account's switch is off
    user.account.tracking_enabled = True
    bo = contacts.find_contact(db.session, user.account_id, "bo@acme.com")
    ana = contacts.find_contact(db.session, user.account_id, "ana@acme.com")
    contacts.update_contact(db.session, bo, {"do_not_enrich": True})
    ana.do_not_enrich = True  # set directly: the pending row survives, the job must still skip
    db.session.commit()
    assert run(clock) == {}
    assert enrichment.request(db.session, bo, clock.now, force=True) is None
    assert len(api.calls) == 0


def test_per_account_rate_limit(make_user, clock, api):
    one, _ = make_user("rep@one.test", account="One")
    two, _ = make_user("rep@two.test", account="Two")
    send(one, "a@acme.com", "b@acme.com", "c@acme.com")
    send(two, "d@globex.com")
    api.get(clearbit.URL, status=404, json=clearbit.NOT_FOUND)
    policy = enrichment.Policy(api_key="sk_test", rate_per_minute=2)
    assert run(clock, policy) == {"not_found": 3, "deferred": 1}
    asked = sorted(call.request.params["email"] for call in api.calls)
    assert "d@globex.com" in asked and len(asked) == 3
    clock.advance(seconds=61)
    assert run(clock, policy) == {"not_found": 1}


def test_a_provider_bug_fails_one_lookup_not_the_run(rep, clock):
    user, _ = rep
    send(user, "ana@acme.com", "bo@acme.com")

    # Fault injection: a provider implementation raising where it should answer. Our Clearbit
    # mapping treats malformed fields as absent, so no HTTP answer can make it raise; the guard
    # around every provider is what this checks.
    class Flaky:
        name = "clearbit"

        def lookup(self, email):
            if email == "ana@acme.com":
                raise KeyError("unexpected shape")
            return enrichment.Lookup("not_found")

    assert enrichment.run_due(db.session, Flaky(), POLICY, clock) == {"error": 1, "not_found": 1}
    row = contact_of(user, "ana@acme.com").enrichment
    assert row.status == "error" and row.error == "provider failure: KeyError"
    assert row.next_attempt_at is not None  # tried again later


def test_a_claimed_row_is_not_taken_twice(rep, clock):
    user, _ = rep
    send(user, "ana@acme.com")
    row_id = db.session.scalar(select(Enrichment.id))
    first, state = enrichment._claim(db.session, row_id, clock.now, POLICY)
    db.session.commit()
    assert first is not None and state == "claimed"
    assert enrichment._claim(db.session, row_id, clock.now, POLICY) == (None, "gone")
