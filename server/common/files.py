"""Local files with personal data (the SQLite database, Huey's queue, the event journal and
spool) are readable by the service's user only: files 0600, folders 0700.

Two layers, because files are created both by this code and by libraries (SQLite's -wal and -shm,
Huey's database): every service process sets a private umask at start (wsgi.py), and the places
here that create files ask for private modes themselves. At start, folders and databases an older
version left readable are tightened too.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
# SQLite's companions of a database file, which hold its pages too.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_umask() -> None:
    """Make every file and folder this process creates from now on private to its user."""
    os.umask(PRIVATE_UMASK)


def private_opener(path: str, flags: int) -> int:
    """An `opener` for open(): a file it creates is 0600 whatever the umask."""
    return os.open(path, flags, FILE_MODE)


def private_dir(path: Path | str) -> Path:
    """The folder `path`, created if missing and made 0700."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path)
    return path


def tighten(path: Path | str) -> None:
    """Make an existing folder 0700 or file 0600; nothing when missing. A shared folder (sticky,
    as /tmp) is left alone: it is not ours to close."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        if mode & stat.S_ISVTX:
            log.warning("%s is a shared folder; point the setting at a folder of its own", path)
            return
        wanted = DIR_MODE
    else:
        wanted = FILE_MODE
    if stat.S_IMODE(mode) & ~wanted:
        try:
            os.chmod(path, wanted)
        except PermissionError:
            log.warning("%s is readable by others and not ours to change", path)


def tighten_sqlite(path: str | None) -> None:
    """Make a SQLite database file and its -wal/-shm/-journal companions 0600."""
    if path:
        for suffix in ("", *SQLITE_SIDE_FILES):
            tighten(path + suffix)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite database URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return os.path.abspath(parsed.database)
