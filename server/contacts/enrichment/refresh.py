"""A manual enrichment refresh as a job: the request makes the lookup due, the worker asks now.

The lookup goes through the same claim as the periodic job (`run_one`), so the two never ask the
provider twice for one request; when the periodic job got there first, the run says so and the
contact shows its answer.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.common import job_runs
from server.common.job_runs import JobFailed
from server.contacts import enrichment
from server.contacts.enrichment.base import Provider
from server.models import Contact, Enrichment, JobRun, User
from server.models.base import utcnow

KIND = "enrichment_refresh"
# What each outcome means to whoever asked, where it is not plain from its name.
MEANINGS = {
    "found": "The provider's answer is stored.",
    "not_found": "The provider knows nothing about this address.",
    "queued": "The provider is still looking; its answer is fetched within minutes.",
    "retry": "The provider did not answer; it is asked again after a pause.",
    "error": "The provider refused the lookup; the contact shows why.",
    "invalid": "The provider refuses this address.",
    "deferred": "The account's lookups per minute are used up; it is asked within minutes.",
    "cached": "A fresh answer is stored already.",
    "gone": "Another lookup of this contact was under way; the contact shows its answer.",
    "off": "Enrichment was switched off for this contact meanwhile, or the provider is not in "
    "use on the sub-processor list (removed, or its notice period still running).",
}


def plan(session: Session, user: User, contact: Contact) -> JobRun:
    """Make the contact's lookup due now (bypassing the cache) and record a queued run for it;
    the caller checked that enrichment is on for the contact."""
    row = enrichment.request(session, contact, utcnow(), force=True)
    item = {"email": contact.email, "status": "queued"}
    return job_runs.create(session, KIND, user, {"row_id": row.id}, [item])


def run(session: Session, run: JobRun, provider: Provider, policy: enrichment.Policy) -> None:
    """Look the contact up now through the shared claim; the outcome is the run's one item."""
    if not policy.configured:
        raise JobFailed("No enrichment API key is configured.")
    row_id = run.input["row_id"]
    if session.get(Enrichment, row_id) is None:
        raise JobFailed("The contact's enrichment was removed (marked do-not-enrich or erased).")
    outcome = enrichment.run_one(session, provider, policy, utcnow, row_id)
    status = "error" if outcome in ("error", "invalid") else outcome
    item = run.items[0] | {"status": status}
    job_runs.progress(session, run, [item], utcnow(), replace=True)
    run.result = {"outcome": outcome, "message": MEANINGS.get(outcome, "")}
    session.commit()
