"""A manual refresh is a job: the request makes the lookup due and queues a run, the worker asks
the provider (once, through the shared claim) and the run says what came of it."""

from __future__ import annotations

from server.common import job_runs
from server.contacts import service as contacts
from server.contacts.enrichment import refresh
from server.contacts.jobs import run_tasks
from server.extensions import db
from server.models import JobRun
from tests.support import clearbit
from tests.support.enrichment import POLICY, contact_of, send


def _refresh(app, user, email="ana@acme.com") -> str:
    """Queue a refresh of the contact and do it as the worker does; the run's id."""
    run = refresh.plan(db.session, user, contact_of(user, email))
    db.session.commit()
    job_runs.perform(db.session, run.id, run_tasks(app)[refresh.KIND])
    db.session.expire_all()
    return run.id


def test_the_worker_asks_now_and_the_run_reports_the_answer(app, rep, api):
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(enrichment_api_key=POLICY.api_key)
    user, _ = rep
    send(user, "ana@acme.com")
    api.get(clearbit.URL, json=clearbit.combined())
    run = db.session.get(JobRun, _refresh(app, user))
    assert run.status == "succeeded" and run.items == [{"email": "ana@acme.com", "status": "found"}]
    assert run.result == {"outcome": "found", "message": refresh.MEANINGS["found"]}
    assert contact_of(user, "ana@acme.com").title == "Chief Technology Officer"
    assert len(api.calls) == 1


def test_without_a_key_or_an_enrichment_row_the_run_fails_and_says_why(app, rep, api):
    user, _ = rep
    send(user, "ana@acme.com")
    no_key = db.session.get(JobRun, _refresh(app, user))
    assert (no_key.status, no_key.error) == ("failed", "No enrichment API key is configured.")
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(enrichment_api_key=POLICY.api_key)
    run = refresh.plan(db.session, user, contact_of(user, "ana@acme.com"))
    db.session.commit()
    # Marked do-not-enrich before the worker got to it: the answer (and its row) went.
    contacts.update_contact(db.session, contact_of(user, "ana@acme.com"), {"do_not_enrich": True})
    db.session.commit()
    job_runs.perform(db.session, run.id, run_tasks(app)[refresh.KIND])
    db.session.expire_all()
    gone = db.session.get(JobRun, run.id)
    assert gone.status == "failed" and "do-not-enrich" in gone.error
    assert len(api.calls) == 0
