"""The writer the sinks drain into refuses a database file that is no longer the configured one."""

from __future__ import annotations

import os
import shutil

import pytest
from flask_migrate import upgrade

from server import create_app
from server.extensions import db
from server.tracking.sinks import WriterStopped
from server.tracking.writer import guarded_writer, sqlite_path
from tests.conftest import make_settings


@pytest.fixture
def instance_db(tmp_path):
    """A migrated SQLite file of its own, and the app and settings that use it."""
    path = tmp_path / "instance.db"
    settings = make_settings(f"sqlite:///{path}")
    app = create_app(settings)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield path, app, settings
    app.extensions["leadcamp.sink"].close()


def test_a_writer_stops_once_its_database_file_is_replaced(instance_db, tmp_path):
    path, app, settings = instance_db
    write = guarded_writer(app, settings)
    assert write([]) == 0
    shutil.copy(path, tmp_path / "copy.db")
    os.replace(tmp_path / "copy.db", path)  # a recreated database: same name, another file
    with pytest.raises(WriterStopped, match="was replaced or removed"):
        write([])


def test_a_writer_stops_once_its_database_file_is_removed(instance_db):
    path, app, settings = instance_db
    write = guarded_writer(app, settings)
    path.unlink()
    with pytest.raises(WriterStopped, match="does not exist"):
        write([])


def test_a_writer_will_not_start_without_its_database_file(instance_db):
    path, app, settings = instance_db
    path.unlink()
    with pytest.raises(WriterStopped, match="run `flask db upgrade` first"):
        guarded_writer(app, settings)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////srv/leadcamp/leadcamp.db", "/srv/leadcamp/leadcamp.db"),
        ("sqlite:///leadcamp.db", os.path.abspath("leadcamp.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://leadcamp@db/leadcamp", None),
    ],
)
def test_only_a_sqlite_file_has_a_path_to_guard(url, path):
    assert sqlite_path(url) == path
