"""Jobs that keep ingestion whole."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.tracking.sinks import replay_orphans

log = logging.getLogger(__name__)


def replay_spools(app):
    """A task replaying spool files left by web workers that died while the database was down."""

    def replay_spools() -> int:
        settings = app.config["LEADCAMP"]
        from server.tracking.writer import event_writer

        count = replay_orphans(
            settings.spool_dir, event_writer(app, settings), settings.sink_batch_size
        )
        if count:
            log.info("replayed %d spooled events", count)
        return count

    return replay_spools


def settle_pending_hits(app):
    """A task storing the hits whose message was reported since, and dropping the expired ones."""

    def settle_pending_hits() -> int:
        from server.extensions import db
        from server.tracking.ingest import BatchWriter
        from server.tracking.writer import windows

        with app.app_context():
            # The writer's first batch releases them too; this runs them when no traffic comes.
            writer = BatchWriter(db.engine, windows(app.config["LEADCAMP"]))
            return writer.settle(datetime.now(UTC))

    return settle_pending_hits
