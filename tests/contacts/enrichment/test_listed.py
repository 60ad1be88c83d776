"""The sub-processor list drives enrichment: a removed provider, or one whose notice period still
runs, is never called; an urgent addition is called at once. `api` (responses) records every
request, so any call to Clearbit shows."""

from __future__ import annotations

from server.common.mail import Mailer
from server.contacts import enrichment
from server.contacts.enrichment import refresh
from server.contacts.enrichment.clearbit import ClearbitProvider
from server.extensions import db
from server.privacy import subprocessors
from tests.support import clearbit
from tests.support.enrichment import POLICY, contact_of, send

NEW_PROVIDER = {
    "name": "Clearbit again",
    "country": "United States",
    "purpose": "Enrichment",
    "safeguard": "EU-U.S. Data Privacy Framework",
    "service": "enrichment",
}


def run(clock):
    return enrichment.run_due(db.session, ClearbitProvider("k"), POLICY, clock)


def _seeded_without_clearbit(app, admin, clock):
    rows = subprocessors.listing(
        db.session, admin.account_id, subprocessors.defaults(app.config["LEADCAMP"])
    )
    [entry] = [r for r in rows if r.service == "enrichment"]
    subprocessors.remove(db.session, Mailer(), admin, entry.id, now=clock())
    db.session.commit()


def test_a_removed_provider_is_never_called(app, rep, admin, api, clock):
    user, _ = rep
    api.get(clearbit.URL, json=clearbit.combined())
    send(user, "ana@acme.com")
    _seeded_without_clearbit(app, admin, clock)
    assert sum(run(clock).values()) == 0
    row = contact_of(user, "ana@acme.com").enrichment
    outcome = enrichment.run_one(db.session, ClearbitProvider("k"), POLICY, clock, row.id)
    assert outcome == "off"
    # A manual refresh goes through the same claim: still no call.
    contact = contact_of(user, "ana@acme.com")
    refresh.plan(db.session, user, contact)
    db.session.commit()
    assert sum(run(clock).values()) == 0
    assert len(api.calls) == 0


def test_a_new_provider_is_called_only_after_its_notice_period(app, rep, admin, api, clock):
    user, _ = rep
    api.get(clearbit.URL, json=clearbit.combined())
    send(user, "ana@acme.com")
    _seeded_without_clearbit(app, admin, clock)
    subprocessors.add(db.session, Mailer(), admin, NEW_PROVIDER, now=clock(), notice_days=30)
    db.session.commit()
    clock.advance(days=29, hours=23)
    assert sum(run(clock).values()) == 0 and len(api.calls) == 0
    clock.advance(hours=1)
    assert run(clock) == {"found": 1}
    assert len(api.calls) == 1


def test_an_urgent_addition_applies_at_once(app, rep, admin, api, clock):
    user, _ = rep
    api.get(clearbit.URL, json=clearbit.combined())
    send(user, "ana@acme.com")
    _seeded_without_clearbit(app, admin, clock)
    urgent = NEW_PROVIDER | {"urgent": "on"}
    subprocessors.add(db.session, Mailer(), admin, urgent, now=clock(), notice_days=30)
    db.session.commit()
    assert run(clock) == {"found": 1}
    assert len(api.calls) == 1


def test_an_unseeded_list_is_the_default_one_with_the_provider_in_use(app, rep, api, clock):
    user, _ = rep
    api.get(clearbit.URL, json=clearbit.combined())
    send(user, "ana@acme.com")
    assert run(clock) == {"found": 1}
    assert len(api.calls) == 1
