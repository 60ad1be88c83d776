"""`python -m bench.reports` (and a step of `make bench`): reports over a year of one account's
mail, 1M events, on SQLite and on PostgreSQL, each in a database of its own, dropped afterwards.

The history is made in memory (seeded, so every run stores the same rows), its per-message
summaries by the batch writer's own `summarize`, and stored with bulk inserts: executemany on
SQLite, COPY on PostgreSQL. Then the API is asked for reports through the app (token, query,
JSON or CSV) and each answer is timed; the target is 200 ms. BENCH_REPORT_EVENTS changes the size.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from bench import leadcamp

EVENTS = int(os.environ.get("BENCH_REPORT_EVENTS", "1000000"))
REPS = 20
DAYS = 365
TARGET_MS = 200.0
REPEAT = 7
END = datetime(2026, 11, 30, tzinfo=UTC)
# (label, query string, admin's or a rep's)
QUERIES = (
    ("team, 8 weeks", "/api/v1/reports?period=week", "admin"),
    ("team, 12 months", "/api/v1/reports?period=month&periods=12", "admin"),
    ("team, 30 days", "/api/v1/reports?period=day&periods=30", "admin"),
    ("rep, 8 weeks", "/api/v1/reports?period=week", "rep"),
    ("rep, 12 months", "/api/v1/reports?period=month&periods=12", "rep"),
    ("team CSV, 12 months", "/api/v1/reports/export?period=month&periods=12", "admin"),
)
# Per message: (kind, verdict, probability, most times, seconds after sending: low, high); about
# five events a message, so 1M events are some 200,000 messages.
HITS = (
    ("open", "machine", 0.45, 2, 1, 30),  # Apple's prefetch, at delivery
    ("click", "scanner", 0.15, 3, 1, 20),  # a gateway following every link
    ("open", "proxy", 0.40, 4, 60, 86400 * 3),
    ("open", "human", 0.35, 4, 60, 86400 * 5),
    ("click", "human", 0.15, 2, 120, 86400 * 5),
    ("reply", "human", 0.08, 1, 600, 86400 * 7),
    ("bounce", "machine", 0.02, 1, 5, 600),
    ("open", "bot", 0.05, 2, 1, 86400),
    ("open", "self", 0.15, 2, 30, 3600),
)
EVENT_COLUMNS = ("id", "account_id", "message_id", "kid", "kind", "occurred_at", "verdict")
EVENT_COLUMNS += ("reasons", "classifier_version", "method")


def history(account_id: int, users: list[int], size: int) -> tuple[list, list]:
    """(messages, events) of a year: messages until `size` events, each with a share of HITS."""
    rng = random.Random(20261130)
    messages, events = [], []
    while len(events) < size:
        mid = f"{len(messages):032x}"
        sent = END - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        user = users[len(messages) % len(users)]
        messages.append((mid, account_id, user, "benchkid", "", sent, True, True, True, sent))
        for kind, verdict, chance, most, low, high in HITS:
            for _ in range(rng.randint(1, most) if rng.random() < chance else 0):
                at = sent + timedelta(seconds=rng.uniform(low, high))
                row = (f"{len(events):032x}", account_id, mid, "benchkid", kind, at, verdict)
                events.append((*row, "", 1, "GET"))
    return messages, events[:size]


def summaries(messages: list, events: list) -> list[dict]:
    """The per-message summaries the batch writer would have kept for these events, with the
    message's rep, sending time and tracked parts it copies onto them."""
    from server.tracking.summaries import summarize

    rows = [
        {
            "message_id": e[2],
            "account_id": e[1],
            "kind": e[4],
            "verdict": e[6],
            "occurred_at": e[5].timestamp(),
        }
        for e in events
    ]
    found = list(summarize(rows).values())
    now = datetime.now(UTC)
    facts = {
        m[0]: {"user_id": m[2], "sent_at": m[5], "opens_tracked": m[6] and m[7]} for m in messages
    }
    for message in messages:
        facts[message[0]]["links_tracked"] = message[6] and message[8]
    return [s | facts[s["message_id"]] | {"updated_at": now} for s in found]


def _sqlite_time(at: datetime) -> str:
    # How SQLAlchemy's SQLite dialect stores a DateTime: UTC, no zone, microseconds.
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def store(conn, table: str, columns: tuple, rows: list) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite."""
    raw = conn.connection.driver_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    fixed = [tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in r) for r in rows]
    marks = ", ".join("?" for _ in columns)
    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", fixed)


MESSAGE_COLUMNS = ("id", "account_id", "user_id", "kid", "subject", "sent_at", "tracked")
MESSAGE_COLUMNS += ("track_opens", "track_links", "created_at")


def load(app, size: int) -> dict:
    """Create the account's people, generate and store the history; returns tokens and timings."""
    from server.accounts import users as accounts
    from server.extensions import db

    with app.app_context():
        admin = accounts.create_user(db.session, "boss@bench.test", "Reports bench", admin=True)
        reps = [
            accounts.create_user(db.session, f"rep{i}@bench.test", "Reports bench")
            for i in range(REPS)
        ]
        tokens = {
            "admin": accounts.create_api_token(db.session, admin),
            "rep": accounts.create_api_token(db.session, reps[0]),
        }
        db.session.commit()
        started = time.perf_counter()
        print("  making the history ...", flush=True)
        messages, events = history(admin.account_id, [r.id for r in reps], size)
        summary_rows = summaries(messages, events)
        made = time.perf_counter() - started
        started = time.perf_counter()
        print(f"  storing {len(messages)} messages, {len(events)} events ...", flush=True)
        with db.engine.begin() as conn:
            store(conn, "messages", MESSAGE_COLUMNS, messages)
            store(conn, "events", EVENT_COLUMNS, events)
            columns = tuple(summary_rows[0])
            store(conn, "message_summaries", columns, [tuple(s.values()) for s in summary_rows])
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # What autovacuum (PostgreSQL: its visibility map makes index-only scans possible)
            # or `PRAGMA optimize` (SQLite) do after a big load.
            vacuum = "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
            conn.exec_driver_sql(vacuum)
        stored = time.perf_counter() - started
        account_id = admin.account_id
        rolled = roll_up(account_id)
    return {
        "tokens": tokens,
        "account_id": account_id,
        "messages": len(messages),
        "events": len(events),
        "generate_s": round(made, 2),
        "insert_s": round(stored, 2),
        "rollup_s": rolled,
    }


def roll_up(account_id: int) -> float:
    """Mark every rep-day stale, as the migration does, and build them all, as the job does
    (bulk-loaded rows went past the batch writer's marks); seconds taken."""
    from server.extensions import db
    from server.messages import rollups

    started = time.perf_counter()
    print("  building the roll-ups ...", flush=True)
    rollups.mark_account(db.session, account_id)
    rollups.refresh(db.session)
    db.session.commit()
    return round(time.perf_counter() - started, 2)


def stale_week(app, account_id: int) -> None:
    """Mark the last 7 days of every rep stale: what a minute of hits on the week's mail does
    when the job has not run since."""
    from sqlalchemy import select

    from server.extensions import db
    from server.models import Message
    from server.tracking.summaries import mark_report_days

    with app.app_context():
        recent = select(Message.id).where(
            Message.account_id == account_id, Message.sent_at >= END - timedelta(days=7)
        )
        mark_report_days(db.session.connection(), Message, Message.id.in_(recent))
        db.session.commit()
        db.session.remove()


def writer_cost(app, account_id: int, batch: int = 500) -> dict:
    """The batch writer's summary upsert for `batch` new hits on as many recent messages, and
    the roll-up marking it now ends with (ms, median of REPEAT; rolled back each time)."""
    from sqlalchemy import select

    from server.extensions import db
    from server.models import Message
    from server.tracking.summaries import add_to_summaries, mark_report_days

    timings: dict = {"summaries_ms": [], "marking_ms": []}
    with app.app_context():
        mids = db.session.scalars(
            select(Message.id).where(Message.account_id == account_id).order_by(
                Message.sent_at.desc()).limit(batch)
        ).all()  # fmt: skip
        at = END.timestamp()
        for i in range(REPEAT):
            events = [{"message_id": m, "account_id": account_id, "kind": "open",
                       "verdict": "human", "occurred_at": at + i} for m in mids]  # fmt: skip
            with db.engine.connect() as conn:
                started = time.perf_counter()
                add_to_summaries(conn, events)
                timings["summaries_ms"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                mark_report_days(conn, Message, Message.id.in_(mids))
                timings["marking_ms"].append((time.perf_counter() - started) * 1000)
                conn.rollback()
    return {name: round(median(values), 1) for name, values in timings.items()}


def measure(app, tokens: dict, account_id: int) -> list[dict]:
    """Each query once to warm up, then REPEAT times: median and slowest in ms. Last, the
    team's 8 weeks each time after a week of every rep was marked stale (not timed)."""
    client = app.test_client()
    date = (END - timedelta(days=1)).date().isoformat()
    out = []
    stale = ("team, 8 weeks, 7 days stale", "/api/v1/reports?period=week", "admin")
    for label, path, who in (*QUERIES, stale):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        url = f"{path}&date={date}"
        timings = []
        for _ in range(REPEAT + 1):
            if label == stale[0]:
                stale_week(app, account_id)
            started = time.perf_counter()
            answer = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:300]}")
        timings = timings[1:]
        out.append(
            {"query": label, "p50_ms": round(median(timings), 1), "max_ms": round(max(timings), 1)}
        )
    return out


def run_on(database_url: str, workdir: Path, size: int = EVENTS) -> dict:
    """Migrate a fresh database, load the history, time the reports."""
    from flask_migrate import upgrade

    from config import Settings
    from server import create_app

    env = leadcamp.base_env(workdir, database_url) | {"EVENT_SINK": "embedded"}
    app = create_app(Settings.from_env(env))
    with app.app_context():
        upgrade()
    loaded = load(app, size)
    figures = measure(app, loaded.pop("tokens"), loaded["account_id"])
    loaded["writer"] = writer_cost(app, loaded["account_id"])
    with app.app_context():
        app.extensions["leadcamp.sink"].close()
        from server.extensions import db

        db.engine.dispose()
    return {**loaded, "queries": figures}


@contextmanager
def _databases(workdir: Path):
    """SQLite in the scratch folder, then PostgreSQL's own database when it answers."""
    found = [("sqlite", f"sqlite:///{workdir / 'reports.db'}")]
    with leadcamp.postgres_database() as url:
        yield found + ([("postgresql", url)] if url else [])


def run(size: int = EVENTS) -> dict:
    """The reports bench on every database that answers."""
    results = {}
    with (
        tempfile.TemporaryDirectory(prefix="leadcamp-reports-") as tmp,
        _databases(Path(tmp)) as databases,
    ):
        for name, url in databases:
            print(f"reports over {size} events on {name} ...", flush=True)
            folder = Path(tmp) / name
            folder.mkdir()
            results[name] = run_on(url, folder, size)
    return results


def checks(results: dict) -> list[dict]:
    """Every report query under TARGET_MS, per database."""
    return [
        {
            "check": f"report {q['query']} ({name}) p50",
            "value": f"{q['p50_ms']:.1f} ms",
            "target": f"<= {TARGET_MS:.0f} ms",
            "ok": q["p50_ms"] <= TARGET_MS,
        }
        for name, run in results.items()
        for q in run["queries"]
    ]


def render_runs(results: dict) -> list[str]:
    """Per database: the history's size and making, then each query's p50 and slowest."""
    lines = []
    for name, run in results.items():
        lines.append(
            f"reports on {name}: {run['events']} events, {run['messages']} messages,"
            f" made in {run['generate_s']} s, stored in {run['insert_s']} s,"
            f" rolled up in {run['rollup_s']} s"
        )
        writer = run["writer"]
        lines.append(
            f"  batch writer, 500 hits: summaries {writer['summaries_ms']} ms,"
            f" roll-up marking {writer['marking_ms']} ms"
        )
        lines.append(f"  {'query':<24}{'p50 ms':>9}{'max ms':>9}")
        lines += [
            f"  {q['query']:<24}{q['p50_ms']:>9.1f}{q['max_ms']:>9.1f}" for q in run["queries"]
        ]
    return lines


def render(results: dict) -> str:
    """The human-readable table and the checks."""
    lines = render_runs(results)
    for check in checks(results):
        verdict = "PASS" if check["ok"] else "MISS"
        lines.append(f"{check['check']:<48}{check['value']:>10}  {check['target']:<10}{verdict}")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Entry point: run, print; 1 when something broke."""
    try:
        results = run()
    except Exception as exc:  # a bench reports what broke and exits 1
        print(f"reports bench failed: {exc!r}", file=sys.stderr)
        return 1
    print(render(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
