"""The messages package's periodic jobs: follow-up reminders fired when due, and the report
roll-ups of stale rep-days recomputed, so reports rarely have any to do."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.extensions import db
from server.messages import follow_ups, rollups

log = logging.getLogger(__name__)


def fire_follow_ups(app, clock=lambda: datetime.now(UTC)):
    """A task firing the reminders whose time has come (follow_ups.fire_due)."""

    def fire_follow_ups() -> dict[str, int]:
        with app.app_context():
            try:
                counts = follow_ups.fire_due(db.session, clock())
                db.session.commit()
            finally:
                db.session.remove()
        if any(counts.values()):
            log.info("follow-ups: %d due (rep notified), %d done (the lead replied)",
                     counts["due"], counts["done"])  # fmt: skip
        return counts

    return fire_follow_ups


def refresh_report_rollups(app):
    """A task recomputing every stale report roll-up (rollups.refresh)."""

    def refresh_report_rollups() -> int:
        with app.app_context():
            try:
                count = rollups.refresh(db.session)
                db.session.commit()
            finally:
                db.session.remove()
        return count

    return refresh_report_rollups
