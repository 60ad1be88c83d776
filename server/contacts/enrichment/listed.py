"""The sub-processor list's say over enrichment: no lookup unless the account's list has an
enrichment entry in use (not removed, its notice period over)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from server.models import SubProcessor, SubProcessorChange

# The sub-processor list's service whose entry must be in use for any lookup.
SUBPROCESSOR_SERVICE = "enrichment"


def listed(account_id, now: datetime):
    """Condition: the account's sub-processor list has an enrichment entry in use at `now`, or
    was never seeded (an unseeded list is the default one, which has it in use)."""
    in_use = (
        select(SubProcessor.id)
        .where(
            SubProcessor.account_id == account_id,
            SubProcessor.service == SUBPROCESSOR_SERVICE,
            SubProcessor.effective_at <= now,
        )
        .exists()
    )
    any_entry = select(SubProcessor.id).where(SubProcessor.account_id == account_id).exists()
    any_change = select(SubProcessorChange.id).where(SubProcessorChange.account_id == account_id)
    return in_use | ~(any_entry | any_change.exists())
