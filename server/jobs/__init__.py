"""Background jobs on Huey: SQLite storage by default, Redis when configured.

Tasks are thin: they open an app context and call services. Periodic tasks (spool replay,
enrichment, Gmail sync, follow-up reminders, report roll-ups, retention) run on the worker's
clock; run tasks do the slow work requests hand over as job runs (server/common/job_runs.py),
one task per run kind, never retried: a run is claimed once and reports its own failure (a Gmail
send must never go out twice).
"""

from __future__ import annotations

import os
import threading

from huey import Huey, RedisHuey, SqliteHuey, crontab

from config import Settings
from server.common import files, job_runs
from server.extensions import db
from server.models.base import utcnow


def sqlite_storage(settings: Settings) -> str | None:
    """The file of Huey's SQLite storage (None when jobs are queued on Redis)."""
    if settings.jobs_storage.startswith(("redis://", "rediss://", "unix://")):
        return None
    return settings.jobs_storage or str(settings.instance_path / "jobs.db")


def build_huey(settings: Settings) -> Huey:
    """The job queue the settings ask for (tasks are registered by `register_tasks`)."""
    path = sqlite_storage(settings)
    if path is None:
        return RedisHuey("leadcamp", url=settings.jobs_storage)
    # Created here, 0600, before SQLite opens it: it holds job arguments (run ids, addresses).
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, files.FILE_MODE))
    files.tighten_sqlite(path)
    return SqliteHuey("leadcamp", filename=path)


def register_tasks(huey: Huey, app) -> dict:
    """Register the tasks, bound to `app`; returns them by name (run tasks by their kind)."""
    from server.accounts import jobs as accounts
    from server.contacts import jobs as contacts
    from server.gmail import jobs as gmail
    from server.messages import jobs as messages
    from server.privacy import jobs as privacy
    from server.tracking import jobs as ingestion
    from server.webhooks import jobs as webhooks

    tasks = {
        "replay_spools": huey.periodic_task(crontab(minute="*"))(ingestion.replay_spools(app)),
        "settle_pending_hits": huey.periodic_task(crontab(minute="*"))(
            ingestion.settle_pending_hits(app)
        ),
        "enrich_due": huey.periodic_task(crontab(minute="*"))(contacts.enrich_due(app)),
        "fire_follow_ups": huey.periodic_task(crontab(minute="*"))(messages.fire_follow_ups(app)),
        "refresh_report_rollups": huey.periodic_task(crontab(minute="*"))(
            messages.refresh_report_rollups(app)
        ),
        "purge_expired_events": huey.periodic_task(crontab(minute="17", hour="3"))(
            privacy.purge_expired_events(app)
        ),
        "purge_job_runs": huey.periodic_task(crontab(minute="27", hour="3"))(
            privacy.purge_job_runs(app)
        ),
        "abandon_stale_runs": huey.periodic_task(crontab(minute="*/10"))(abandon_stale_runs(app)),
        "deliver_webhooks": huey.periodic_task(crontab(minute="*"))(webhooks.deliver_webhooks(app)),
        "purge_webhooks": huey.periodic_task(crontab(minute="37", hour="3"))(
            webhooks.purge_webhooks(app)
        ),
    }
    tasks |= gmail.register(huey, app)
    tasks |= accounts.register(huey, app)
    runs = gmail.run_tasks(app) | contacts.run_tasks(app) | privacy.run_tasks(app)
    for kind, work in runs.items():
        tasks[kind] = huey.task(retries=0, name=kind)(job_runs.bind(app, work))
    return tasks


def abandon_stale_runs(app):
    """A task ending the runs whose worker died (see job_runs.abandon_stale)."""

    def abandon_stale_runs() -> int:
        with app.app_context():
            try:
                return job_runs.abandon_stale(db.session, utcnow())
            finally:
                db.session.remove()

    return abandon_stale_runs


class HueyQueue:
    """The queue requests hand their runs to, and the worker consumes: the settings' Huey with
    every task registered, built on first use (a web worker that queues nothing opens nothing)."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings
        self._built: tuple[Huey, dict] | None = None
        self._lock = threading.Lock()

    def _build(self) -> tuple[Huey, dict]:
        with self._lock:
            if self._built is None:
                huey = build_huey(self.settings)
                self._built = huey, register_tasks(huey, self.app)
            return self._built

    @property
    def huey(self) -> Huey:
        """The Huey instance, its tasks registered."""
        return self._build()[0]

    def enqueue(self, kind: str, run_id: str) -> None:
        """Queue the run for the task of its kind."""
        self.submit(kind, run_id)

    def submit(self, name: str, *args) -> None:
        """Queue the task registered as `name` with `args` (e.g. a mailbox's sync)."""
        self._build()[1][name](*args)
