"""The batch writer the sinks use, bound to the app's database engine."""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Flask

from config import Settings
from server.common.files import sqlite_path
from server.tracking.ingest import BatchWriter
from server.tracking.sinks import WriterStopped
from server.tracking.verdicts.context import Windows


def windows(settings: Settings) -> Windows:
    """The context rules' windows from settings."""
    return Windows(
        scanner=settings.scanner_window_seconds,
        burst=settings.burst_window_seconds,
        self_view=settings.self_view_window_seconds,
    )


def app_engine(app: Flask):
    """The app's database engine, from outside a request (the fast path has no app context)."""
    from server.extensions import db

    with app.app_context():
        return db.engine


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


def guarded_writer(app: Flask, settings: Settings) -> Callable[[list[dict]], int]:
    """`event_writer`, refusing to write once a SQLite database file is not the configured one.

    A writer left running after its instance's database was deleted or recreated would otherwise
    store every hit in the file it opened, which nobody reads any more.
    """
    write, path = event_writer(app, settings), sqlite_path(settings.database_url)
    if path is None:
        return write
    opened = _identity(path)

    def checked(events: list[dict]) -> int:
        if _identity(path) != opened:
            raise WriterStopped(
                f"the database file {path} was replaced or removed since this writer started; "
                "the batches stay in the journal for a writer started on the new file"
            )
        return write(events)

    return checked


def _identity(path: str) -> tuple[int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise WriterStopped(
            f"the database file {path} does not exist: run `flask db upgrade` first"
        ) from None
    return stat.st_dev, stat.st_ino
