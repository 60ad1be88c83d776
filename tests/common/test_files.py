"""Local state is its user's only: what an older version left readable is tightened at start."""

from __future__ import annotations

import os
import stat

from config import Settings
from server import create_app
from server.common import files


def mode(path) -> int:
    """The permission bits of `path`."""
    return stat.S_IMODE(os.stat(path).st_mode)


def test_start_tightens_the_folders_and_databases_an_older_version_left_readable(tmp_path):
    instance, journal = tmp_path / "instance", tmp_path / "instance" / "journal"
    journal.mkdir(parents=True)
    names = ["leadcamp.db", "leadcamp.db-wal", "leadcamp.db-shm", "jobs.db", "jobs.db-wal"]
    for name in names:
        (instance / name).touch()
        os.chmod(instance / name, 0o644)
    for folder in (instance, journal):
        os.chmod(folder, 0o755)
    env = {
        "SECRET_KEY": "k",
        "LINK_SIGNING_SECRETS": "s",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'leadcamp.db'}",
    }
    create_app(Settings.from_env(env))
    assert [mode(instance / name) for name in names] == [0o600] * len(names)
    assert [mode(instance), mode(journal)] == [0o700, 0o700]


def test_a_shared_folder_is_left_as_it_is(tmp_path, caplog):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # as /tmp: closing it would break every other user of it
    files.tighten(shared)
    assert mode(shared) == 0o1777 and "shared folder" in caplog.text


def test_a_missing_path_is_no_error_and_a_private_one_is_unchanged(tmp_path):
    files.tighten(tmp_path / "absent")
    files.tighten_sqlite(None)
    assert mode(files.private_dir(tmp_path / "a" / "b")) == 0o700
