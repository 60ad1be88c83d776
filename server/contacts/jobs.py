"""The enrichment job: look up the contacts whose lookup is due (new, polled, or retried)."""

from __future__ import annotations

import logging

from server.contacts import enrichment
from server.contacts.enrichment.clearbit import ClearbitProvider
from server.extensions import db

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
