"""`flask --app wsgi serve`, `jobs worker` and `sink drain|replay`: the running service."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from sqlalchemy import event

from config import env_number
from server.common.process import die_with_parent
from server.extensions import db

# Seconds a job waits for SQLite's one write lock; a request gives up after 5 (a 503 to retry).
JOB_LOCK_WAIT = 60
jobs = click.Group("jobs", help="Run background jobs.")
sink = click.Group("sink", help="Event ingestion.")


def web_command(port: int, workers: int, env=os.environ, target: str = "wsgi:web") -> list[str]:
    """granian's command line for `target`; HOST and the WEB_* settings come from `env`."""
    number = functools.partial(env_number, env)
    return [
        *(sys.executable, "-m", "server.webmaster"),
        *("--interface", "wsgi", "--http", "1", "--no-ws"),
        *("--host", _host(env), "--port", str(port)),
        # One Python thread per worker: more threads only contend for the interpreter lock, and
        # granian's default pool cost a quarter of the throughput (docs/performance.md).
        *("--workers", str(workers), "--blocking-threads", "1", "--backlog", "2048"),
        *("--respawn-failed-workers", "--respawn-interval", "0.5"),
        *("--workers-kill-timeout", str(int(number("WEB_GRACEFUL_TIMEOUT", 10)))),
        # Closes a keep-alive connection left idle, and one that sends its headers too slowly.
        *("--http1-header-read-timeout", str(int(number("WEB_IDLE_TIMEOUT", 5) * 1000))),
        # Request line and headers together; larger ones are refused with 431 before buffering.
        *("--http1-buffer-size", str(int(number("WEB_MAX_HEADER_BYTES", 16384)))),
        target,
    ]


@click.command("serve")
@click.option("--port", envvar="PORT", default=5000, show_default=True)
@click.option("--workers", envvar="WEB_WORKERS", default=2, show_default=True)
def serve(port: int, workers: int):
    """Run the web server, the job worker and the event writer until Ctrl-C (SIGHUP reloads)."""
    settings = current_app.config["LEADCAMP"]
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    commands = {
        "web": web_command(port, workers),
        "jobs": [*flask, "jobs", "worker"],
    }
    if settings.event_sink != "embedded":
        commands["drain"] = [*flask, "sink", "drain"]
    children = {name: _start(command) for name, command in commands.items()}
    host = _host(os.environ)
    url_host = f"[{host}]" if ":" in host else host  # an IPv6 address goes in brackets
    click.echo(f"Leadcamp is running on http://{url_host}:{port} (Ctrl-C stops it)")
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    # SIGHUP reloads the web workers one by one (new code, same socket) without losing a hit.
    signal.signal(signal.SIGHUP, lambda *_: children["web"].send_signal(signal.SIGHUP))
    while not stopping and all(c.poll() is None for c in children.values()):
        time.sleep(0.2)
    failed = [name for name, child in children.items() if child.poll() not in (None, 0)]
    # The web server first: its workers hand their last batches to the sink as they exit, and
    # the writer then stores them before it stops.
    for name in ("web", "jobs", "drain"):
        if name in children:
            _stop(name, children[name])
    if failed and not stopping:
        raise click.ClickException(f"{', '.join(failed)} stopped unexpectedly; stopped the rest")


def _start(command: list[str]) -> subprocess.Popen:
    # Own sessions, so a terminal's Ctrl-C reaches only this process, which then stops each child
    # once, in order; and the parent-death signal, so none outlives this process if it is killed.
    return subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent)


def _host(env) -> str:
    return env.get("HOST", "").strip() or "127.0.0.1"


def _stop(name: str, child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        click.echo(f"{name} did not stop in time; killing it", err=True)
        child.kill()


@jobs.command("worker")
@click.option("--workers", default=2, show_default=True)
def jobs_worker(workers: int):
    """Run the job consumer (periodic tasks included) until interrupted."""
    patient_sqlite(db.engine, JOB_LOCK_WAIT)
    huey = current_app.extensions["leadcamp.jobs"].huey
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


def patient_sqlite(engine, seconds: float) -> None:
    """Make new SQLite connections of `engine` wait `seconds` for the write lock.

    A job's write that gives up is worse than a late one: a send Gmail already carried out, or
    an import's chunk, would end as failed while another writer (an import, the event writer)
    held the lock for a moment. PostgreSQL locks rows and needs none of this.
    """
    if engine.dialect.name != "sqlite":
        return

    def on_connect(connection, _record) -> None:
        connection.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections opened before now would keep the short wait


@sink.command("drain")
def sink_drain():
    """Write the journal (or the Redis stream) into the database until interrupted."""
    from server.tracking.sinks import JournalDrainer, StreamDrainer, WriterStopped
    from server.tracking.writer import guarded_writer

    settings = current_app.config["LEADCAMP"]
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    # Recipients' requests come first: under a burst the backlog waits on disk, and the writer
    # catches up when the web workers leave it a core.
    os.nice(10)
    try:
        write = guarded_writer(current_app._get_current_object(), settings)
        if settings.event_sink == "redis":
            import redis

            client = redis.Redis.from_url(settings.redis_url)
            drainer = StreamDrainer(client, settings.redis_stream, write, settings.sink_batch_size)
        else:
            drainer = JournalDrainer(settings.journal_dir, write)
        drainer.run(lambda: bool(stop))
    except WriterStopped as exc:
        raise click.ClickException(str(exc)) from None


@sink.command("replay")
def sink_replay():
    """Replay spool files left by stopped web workers now."""
    from server.tracking.jobs import replay_spools

    click.echo(f"replayed {replay_spools(current_app._get_current_object())()} events")
