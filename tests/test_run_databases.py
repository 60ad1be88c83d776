"""Each test run's own PostgreSQL database (tests/support/postgres.py): names that concurrent runs
never share, and a cleanup that drops what killed runs left and never a live run's database."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import PG_URL
from tests.support import postgres

NOW = 1_800_000_000
HOUR = 3600
# A prefix of its own: these tests' databases are never mistaken for a real run's.
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


@pytest.fixture
def server():
    """An autocommit connection to the test PostgreSQL server; this module's databases are
    dropped afterwards, whatever the test left."""
    if not postgres.answers(PG_URL):
        pytest.skip("PostgreSQL is not answering")
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        yield conn
        for name in databases(conn):
            postgres.drop(conn, name)


def databases(conn) -> set[str]:
    rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [PREFIX])
    return {row[0] for row in rows}


def create(conn, name: str) -> None:
    conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def test_a_run_drops_stale_databases_keeps_live_ones_and_drops_its_own(server):
    killed = postgres.new_name(PREFIX, now=time.time() - 7 * HOUR)
    running = postgres.new_name(PREFIX, now=time.time() - HOUR)  # another run, still going
    create(server, killed)
    create(server, running)
    with postgres.throwaway_database(PG_URL, PREFIX) as url:
        own = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        assert databases(server) == {running, own}
        # A session left open on the run's database (a server the run started) does not stop
        # the drop at the end.
        leftover = psycopg.connect(url)
        assert leftover.execute("SELECT current_database()").fetchone() == (own,)
    assert databases(server) == {running}
    with pytest.raises(psycopg.OperationalError):
        leftover.execute("SELECT 1")  # its session was ended by the drop
    leftover.close()


def test_two_runs_at_once_get_databases_of_their_own(server):
    with (
        postgres.throwaway_database(PG_URL, PREFIX) as one,
        postgres.throwaway_database(PG_URL, PREFIX) as two,
    ):
        assert one != two and len(databases(server)) == 2
        # The second run's start left the first run's database alone.
        with psycopg.connect(one) as conn:
            conn.execute("CREATE TABLE mine (n int)")
        with psycopg.connect(two) as conn:
            assert conn.execute("SELECT to_regclass('mine')").fetchone() == (None,)
    assert databases(server) == set()
