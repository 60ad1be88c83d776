"""Contacts jobs: the periodic enrichment lookups, and the runs requests hand over (CSV imports,
manual enrichment refreshes)."""

from __future__ import annotations

import logging

from server.contacts import enrichment, imports
from server.contacts.enrichment import refresh
from server.contacts.enrichment.clearbit import ClearbitProvider
from server.extensions import db
from server.models import JobRun

log = logging.getLogger(__name__)


def enrich_due(app, provider_factory=ClearbitProvider):
    """A task running the due lookups; without an API key it does nothing (enrichment off)."""

    def enrich_due() -> int:
        policy = enrichment.Policy.from_settings(app.config["LEADCAMP"])
        if not policy.configured:
            return 0
        with app.app_context():
            try:
                outcomes = enrichment.run_due(db.session, provider_factory(policy.api_key), policy)
            finally:
                db.session.remove()
        if outcomes:
            log.info("enrichment: %s", dict(outcomes))
        return sum(outcomes.values())

    return enrich_due


def run_tasks(app, provider_factory=ClearbitProvider) -> dict:
    """The work behind this package's run kinds (registered as never-retried tasks)."""

    def enrichment_refresh(session, run: JobRun) -> None:
        policy = enrichment.Policy.from_settings(app.config["LEADCAMP"])
        refresh.run(session, run, provider_factory(policy.api_key), policy)

    return {imports.KIND: imports.run, refresh.KIND: enrichment_refresh}
