"""The batch writer the sinks use, bound to the app's database engine."""

from __future__ import annotations

from flask import Flask

from config import Settings
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows


def windows(settings: Settings) -> Windows:
    """The context rules' windows from settings."""
    return Windows(
        scanner=settings.scanner_window_seconds,
        burst=settings.burst_window_seconds,
        self_view=settings.self_view_window_seconds,
    )


def event_writer(app: Flask, settings: Settings):
    """A writer that resolves the engine lazily (it exists only once the app is set up)."""
    from server.extensions import db

    state = {}

    def write(events: list[dict]) -> int:
        if "writer" not in state:
            with app.app_context():
                state["writer"] = BatchWriter(db.engine, windows(settings))
        return state["writer"](events)

    return write
