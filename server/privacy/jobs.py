"""The nightly purges (expired events, old job runs) and the data-subject export run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.common import job_runs
from server.extensions import db
from server.privacy import data_requests, retention

log = logging.getLogger(__name__)


def purge_expired_events(app, clock=lambda: datetime.now(UTC)):
    """A task deleting events older than each account's retention period, and every other kind
    of data older than its RETENTION_<KIND>_DAYS."""

    def purge_expired_events() -> dict[int, int]:
        hours = app.config["LEADCAMP"].ip_hash_rotation_hours
        periods = retention.Periods.from_settings(app.config["LEADCAMP"])
        with app.app_context():
            now = clock()
            removed = retention.purge(db.session, now, hours)
            kinds = retention.purge_kinds(db.session, now, periods)
            db.session.commit()
        if removed:
            log.info("retention purge removed %d events", sum(removed.values()))
        if kinds:
            log.info("retention purge removed %s", kinds)
        return removed

    return purge_expired_events


def purge_job_runs(app, clock=lambda: datetime.now(UTC)):
    """A task deleting job runs that ended more than JOB_RUNS_RETENTION_DAYS ago."""

    def purge_job_runs() -> int:
        days = app.config["LEADCAMP"].job_runs_retention_days
        with app.app_context():
            removed = job_runs.purge(db.session, clock(), days)
            db.session.commit()
        if removed:
            log.info("job-run purge removed %d runs older than %d days", removed, days)
        return removed

    return purge_job_runs


def run_tasks(app) -> dict:
    """The work behind this package's run kinds (registered as never-retried tasks)."""
    return {data_requests.KIND: data_requests.write_export}
