"""Each test run's own PostgreSQL database (tests/support/postgres.py): names that concurrent runs
never share, and a cleanup that drops what killed runs left and never a live run's database."""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg import sql

from tests.conftest import PG_URL
from tests.support import postgres

NOW = 1_800_000_000
HOUR = 3600
# A prefix of its own: these tests' databases are never mistaken for a real run's. Runs of this
# module side by side share it, so its tests never assume they are alone with it.
PREFIX = "leadcamp_selftest_"


def test_names_carry_their_creation_time_and_differ_between_and_within_processes():
    one = postgres.new_name(postgres.TEST_PREFIX, now=NOW, pid=4321)
    assert one.startswith(f"leadcamp_test_{NOW}_4321_")
    assert postgres.created_at(one, postgres.TEST_PREFIX) == NOW
    same_moment = {postgres.new_name(postgres.TEST_PREFIX, now=NOW, pid=pid) for pid in (1, 2)}
    same_process = {postgres.new_name(postgres.TEST_PREFIX, now=NOW, pid=7) for _ in range(50)}
    assert len(same_moment) == 2 and len(same_process) == 50


def test_names_fit_postgresql_identifiers():
    longest = postgres.new_name(postgres.BENCH_PREFIX, now=9_999_999_999, pid=4_194_304)
    assert len(longest) <= postgres.MAX_NAME
    with pytest.raises(ValueError):
        postgres.new_name("x" * 60)


def test_only_our_databases_older_than_the_limit_are_stale():
    old = postgres.new_name(postgres.TEST_PREFIX, now=NOW - 7 * HOUR)
    young = postgres.new_name(postgres.TEST_PREFIX, now=NOW - 5 * HOUR)
    others = [
        "test",
        "postgres",
        postgres.new_name(postgres.BENCH_PREFIX, now=NOW - 7 * HOUR),  # the bench's, not ours
        f"leadcamp_test_{NOW - 7 * HOUR}",  # someone else's naming
        f"leadcamp_test_{NOW - 7 * HOUR}_12_xyz",
    ]
    assert postgres.stale([old, young, *others], postgres.TEST_PREFIX, NOW) == [old]
    assert postgres.stale([old, young], postgres.TEST_PREFIX, NOW, max_age=4 * HOUR) == [old, young]


def test_a_url_names_another_database_and_keeps_everything_else():
    url = "postgresql+psycopg://lc:s3cret@db.internal:6543/test?connect_timeout=3"
    assert postgres.with_database(url, "leadcamp_test_1_2_ab") == (
        "postgresql+psycopg://lc:s3cret@db.internal:6543/leadcamp_test_1_2_ab?connect_timeout=3"
    )
    assert postgres.libpq_url(url).startswith("postgresql://lc:s3cret@db.internal:6543/test")


class Server:
    """The test PostgreSQL server through an autocommit connection. Databases made here are
    dropped afterwards; another run's, made by this very test running beside it, are left be."""

    def __init__(self, conn: psycopg.Connection):
        self.conn, self.made = conn, []

    def create(self, name: str) -> None:
        self.conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.made.append(name)

    def databases(self) -> set[str]:
        query = "SELECT datname FROM pg_database WHERE starts_with(datname, %s)"
        return {row[0] for row in self.conn.execute(query, [PREFIX])}


@pytest.fixture
def server():
    """The test PostgreSQL server; skipped when it does not answer."""
    if not postgres.answers(PG_URL):
        pytest.skip("PostgreSQL is not answering")
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        server = Server(conn)
        yield server
        for name in server.made:
            postgres.drop(conn, name)


def dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]


def test_a_run_drops_stale_databases_keeps_live_ones_and_drops_its_own(server):
    killed = postgres.new_name(PREFIX, now=time.time() - 7 * HOUR)
    running = postgres.new_name(PREFIX, now=time.time() - HOUR)  # another run, still going
    server.create(killed)
    server.create(running)
    with postgres.throwaway_database(PG_URL, PREFIX) as url:
        own = dbname(url)
        assert killed not in server.databases() and {running, own} <= server.databases()
        # A session left open on the run's database (a server the run started) does not stop
        # the drop at the end.
        leftover = psycopg.connect(url)
        assert leftover.execute("SELECT current_database()").fetchone() == (own,)
    assert own not in server.databases() and running in server.databases()
    with pytest.raises(psycopg.OperationalError):
        leftover.execute("SELECT 1")  # its session was ended by the drop
    leftover.close()


def test_two_runs_at_once_get_databases_of_their_own(server):
    with (
        postgres.throwaway_database(PG_URL, PREFIX) as one,
        postgres.throwaway_database(PG_URL, PREFIX) as two,
    ):
        # The second run's start left the first run's database alone.
        assert dbname(one) != dbname(two)
        assert {dbname(one), dbname(two)} <= server.databases()
        with psycopg.connect(one) as conn:
            conn.execute("CREATE TABLE mine (n int)")
        with psycopg.connect(two) as conn:
            assert conn.execute("SELECT to_regclass('mine')").fetchone() == (None,)
    assert not {dbname(one), dbname(two)} & server.databases()
