"""Background jobs on Huey: SQLite storage by default, Redis when configured.

Tasks are thin: they open an app context and call services. More tasks (Gmail sync, enrichment,
purge, webhooks) register here as they arrive.
"""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey, crontab

from config import Settings


def build_huey(settings: Settings) -> Huey:
    """The job queue the settings ask for, with every task registered."""
    if settings.jobs_storage.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey("leadcamp", url=settings.jobs_storage)
    else:
        path = settings.jobs_storage or str(settings.instance_path / "jobs.db")
        huey = SqliteHuey("leadcamp", filename=path)
    return huey


def register_tasks(huey: Huey, app) -> dict:
    """Register the tasks, bound to `app`; returns them by name."""
    from server.contacts import jobs as enrichment
    from server.gmail import jobs as gmail
    from server.privacy import jobs as purge
    from server.tracking import jobs as ingestion

    tasks = {
        "replay_spools": huey.periodic_task(crontab(minute="*"))(ingestion.replay_spools(app)),
        "enrich_due": huey.periodic_task(crontab(minute="*"))(enrichment.enrich_due(app)),
        "purge_expired_events": huey.periodic_task(crontab(minute="17", hour="3"))(
            purge.purge_expired_events(app)
        ),
    }
    tasks |= gmail.register(huey, app)
    return tasks
