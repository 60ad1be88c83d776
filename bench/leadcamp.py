"""Our server under test: its database, environment, test messages and the events it stored."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import create_engine, text

from bench.tools import BenchError
from tests.support import postgres

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
EMAIL = "bench@example.com"


def base_env(instance: Path, database_url: str) -> dict[str, str]:
    """The environment our server and its CLI run with; fresh secrets every run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(32),
        LINK_SIGNING_SECRETS=secrets.token_urlsafe(32),
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(instance),
        FLASK_SKIP_DOTENV="1",
        # The production default (journal + writer process) unless BENCH_SINK says otherwise.
        EVENT_SINK=os.environ.get("BENCH_SINK", "journal"),
        # wrk stands in for the proxy in front: its X-Forwarded-For address is believed, so the
        # owner-network lookup and location run on a public address as in production.
        TRUSTED_PROXIES="127.0.0.1/32",
    )
    # A PUBLIC_URL or REDIS_URL from the caller's shell must not leak into the measured setup.
    # Nor an ACCESS_LOG: the bench measures the production default, without one.
    for name in (
        *("PUBLIC_URL", "REDIS_URL", "SPOOL_DIR", "JOBS_STORAGE", "TESTING", "NETWORK_DATA"),
        "ACCESS_LOG",
    ):
        env.pop(name, None)
    if env["EVENT_SINK"] == "redis":
        # A stream of its own, deleted after the run (see drop_stream).
        env["REDIS_URL"] = REDIS_URL
        env["REDIS_STREAM"] = f"leadcamp-bench:{secrets.token_hex(6)}"
    return env


def needs_drainer(env: dict[str, str]) -> bool:
    """Whether the sink's events reach the database through `flask sink drain`."""
    return env["EVENT_SINK"] in ("journal", "redis")


def drop_stream(env: dict[str, str]) -> None:
    """Delete the Redis sink's stream of this run, if it used one."""
    if env["EVENT_SINK"] == "redis":
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete(env["REDIS_STREAM"])


def drain_command() -> list[str]:
    """The writer process that stores the journal's batches (`flask sink drain`)."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", "sink", "drain"]


def flask_cli(env: dict[str, str], *args: str) -> str:
    """Run `flask --app wsgi ARGS` and return its output; fail with it on error."""
    return run_command(env, [sys.executable, "-m", "flask", "--app", "wsgi", *args])


def run_command(env: dict[str, str], command: list[str]) -> str:
    """Run a one-off command in the project and return its output; fail with it on error."""
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command[1:])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare(env: dict[str, str]) -> str:
    """Migrate the database, create the bench user and return an API token for it."""
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "users", "create", EMAIL, "--account", "Bench")
    return flask_cli(env, "tokens", "create", EMAIL, "--label", "bench").strip().splitlines()[-1]


def register_message(base: str, token: str) -> dict[str, str]:
    """Register a message sent an hour ago; return its id and its pixel and click paths."""
    sent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "subject": "bench",
        "recipients": [{"email": "lead@example.com"}],
        "sent_at": sent,
        "html": '<p>Hello</p><a href="https://example.com/">x</a>',
    }
    request = urllib.request.Request(
        f"{base}/api/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        created = json.load(response)
    # Keep only the path: the public URL in the answer need not be the port we listen on.
    return {
        "id": created["id"],
        "pixel": urlsplit(created["pixel_url"]).path,
        "click": _path_and_query(created["links"][0]["tracked_url"]),
    }


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def count_events(database_url: str, message_id: str) -> int:
    """How many events the database holds for one message."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM events WHERE message_id = :mid")
            return int(conn.execute(query, {"mid": message_id}).scalar_one())
    finally:
        engine.dispose()


def spooled_bytes(instance: Path) -> int:
    """Bytes left in the sink's spool: events that never reached the database."""
    spool = instance / "spool"
    return sum(p.stat().st_size for p in spool.rglob("*") if p.is_file()) if spool.exists() else 0


@contextmanager
def postgres_database():
    """A database of this run's own on the bench's PostgreSQL, dropped afterwards (stale ones of
    killed runs are dropped first); yields its URL, or None when PostgreSQL does not answer."""
    if not postgres.answers(POSTGRES_URL):
        print(f"PostgreSQL at {_safe(POSTGRES_URL)} does not answer.")
        yield None
        return
    with ExitStack() as stack:
        try:
            database = postgres.throwaway_database(POSTGRES_URL, postgres.BENCH_PREFIX)
            url = stack.enter_context(database)
        except psycopg.Error as exc:
            notes = " ".join(getattr(exc, "__notes__", []))
            where = _safe(POSTGRES_URL)
            raise BenchError(f"cannot create a database at {where}: {exc} {notes}") from exc
        yield url


def _safe(url: str) -> str:
    # Never print a password that might be in a caller-supplied URL.
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
