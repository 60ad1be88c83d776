"""Throwaway PostgreSQL databases: one per test run (and per bench run), so runs sharing a server
never meet.

Each is created from template0 under a name that carries its prefix, its creation time (Unix
seconds), the creating process's id and a random part, and is dropped when the run ends. A run
that was killed leaves its database behind; whoever starts next drops those of its prefix older
than `STALE_AFTER`, long past any run's length, so a live run's database is never touched.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

TEST_PREFIX = "leadcamp_test_"
BENCH_PREFIX = "leadcamp_bench_"
STALE_AFTER = 6 * 3600  # seconds; a whole suite on a slow machine takes well under one hour
MAX_NAME = 63  # PostgreSQL's identifier limit: longer names are silently truncated


def new_name(prefix: str, now: float | None = None, pid: int | None = None) -> str:
    """A database name no other run can pick: prefix, creation time, process id, random part."""
    created = int(time.time() if now is None else now)
    name = f"{prefix}{created}_{os.getpid() if pid is None else pid}_{secrets.token_hex(4)}"
    if len(name) > MAX_NAME:
        raise ValueError(f"database name {name!r} is longer than {MAX_NAME} characters")
    return name


def created_at(name: str, prefix: str) -> int | None:
    """The creation time a name made by `new_name` with `prefix` carries; None for other names."""
    match = re.fullmatch(re.escape(prefix) + r"(\d+)_\d+_[0-9a-f]+", name)
    return int(match[1]) if match else None


def stale(names: Iterable[str], prefix: str, now: float, max_age: float = STALE_AFTER) -> list[str]:
    """The names of `prefix`'s databases created more than `max_age` seconds before `now`."""
    return [
        name
        for name in names
        if (created := created_at(name, prefix)) is not None and now - created > max_age
    ]


def libpq_url(url: str) -> str:
    """`url` as psycopg takes it (a SQLAlchemy driver suffix such as `+psycopg` removed)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead; its driver, credentials and options are kept."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def answers(url: str) -> bool:
    """Whether the PostgreSQL server at `url` accepts connections."""
    try:
        psycopg.connect(libpq_url(url), connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def _connect(url: str) -> psycopg.Connection:
    # CREATE and DROP DATABASE refuse to run inside a transaction.
    return psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5)


def drop(conn: psycopg.Connection, name: str) -> None:
    """Drop database `name`, ending any session still connected to it (a server left running)."""
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_stale(conn: psycopg.Connection, prefix: str, max_age: float = STALE_AFTER) -> list[str]:
    """Drop the databases killed runs of `prefix` left behind; the names dropped."""
    names = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
    dropped = []
    for name in stale([row[0] for row in names.fetchall()], prefix, time.time(), max_age):
        try:
            drop(conn, name)
        except psycopg.Error:
            continue  # another run starting at the same moment dropped it first, or still is
        dropped.append(name)
    return dropped


@contextmanager
def throwaway_database(url: str, prefix: str, max_age: float = STALE_AFTER) -> Iterator[str]:
    """A new, empty database on the server `url` connects to, for the duration of the block:
    yields `url` naming it. Stale databases of `prefix` are dropped first. The user of `url`
    needs the CREATEDB privilege."""
    name = new_name(prefix)
    with _connect(url) as conn:
        drop_stale(conn, prefix, max_age)
        create = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
        try:
            conn.execute(create.format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege as exc:
            exc.add_note(f"{make_url(url).username or 'the user'} needs CREATEDB (README.md)")
            raise
    try:
        yield with_database(url, name)
    finally:
        with _connect(url) as conn:
            drop(conn, name)
