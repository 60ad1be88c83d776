"""Jobs that keep ingestion whole."""

from __future__ import annotations

import logging

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
