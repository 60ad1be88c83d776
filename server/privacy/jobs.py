"""The nightly retention purge."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.privacy import retention

log = logging.getLogger(__name__)


def purge_expired_events(app, clock=lambda: datetime.now(UTC)):
    """A task deleting events older than each account's retention period."""

    def purge_expired_events() -> dict[int, int]:
        from server.extensions import db

        with app.app_context():
            removed = retention.purge(db.session, clock())
            db.session.commit()
        if removed:
            log.info("retention purge removed %d events", sum(removed.values()))
        return removed

    return purge_expired_events
