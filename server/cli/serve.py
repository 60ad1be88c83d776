"""`flask --app wsgi serve`, `jobs worker` and `sink drain|replay`: the running service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import current_app

jobs = click.Group("jobs", help="Run background jobs.")
sink = click.Group("sink", help="Event ingestion.")


def web_command(port: int, workers: int, access_log: bool, env=os.environ) -> list[str]:
    """The production web server's command line (server/webserver.py); HOST and
    WEB_GRACEFUL_TIMEOUT come from `env`."""
    command = [
        sys.executable,
        "-m",
        "server.webserver",
        "--host",
        env.get("HOST", "127.0.0.1"),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--graceful-timeout",
        env.get("WEB_GRACEFUL_TIMEOUT", "5"),
    ]
    if access_log:
        command.append("--access-log")
    return [*command, "wsgi:app"]


@click.command("serve")
@click.option("--port", envvar="PORT", default=5000, show_default=True)
@click.option("--workers", envvar="WEB_WORKERS", default=2, show_default=True)
@click.option("--access-log/--no-access-log", envvar="ACCESS_LOG", default=False, show_default=True)
def serve(port: int, workers: int, access_log: bool):
    """Run the web server and the job worker (and the Redis drainer) until Ctrl-C."""
    settings = current_app.config["LEADCAMP"]
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    commands = {
        "web": web_command(port, workers, access_log),
        "jobs": [*flask, "jobs", "worker"],
    }
    if settings.event_sink != "embedded":
        commands["drain"] = [*flask, "sink", "drain"]
    # Own sessions: a terminal's Ctrl-C reaches only this process, which then stops each child
    # exactly once, in order.
    children = {
        name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()
    }
    click.echo(f"Leadcamp is running on http://127.0.0.1:{port} (Ctrl-C stops it)")
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    while not stopping and all(c.poll() is None for c in children.values()):
        time.sleep(0.2)
    # The web server first: its workers hand their last batches to the sink as they exit, and
    # the drainer then writes them before it stops.
    for name in ("web", "jobs", "drain"):
        if name in children:
            _stop(name, children[name])


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
    from server.jobs import build_huey, register_tasks

    huey = build_huey(current_app.config["LEADCAMP"])
    register_tasks(huey, current_app._get_current_object())
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


@sink.command("drain")
def sink_drain():
    """Write the journal (or the Redis stream) into the database until interrupted."""
    from server.tracking.sinks import JournalDrainer, StreamDrainer
    from server.tracking.writer import event_writer

    settings = current_app.config["LEADCAMP"]
    write = event_writer(current_app._get_current_object(), settings)
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    if settings.event_sink == "redis":
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        StreamDrainer(client, settings.redis_stream, write, settings.sink_batch_size).run(
            lambda: bool(stop)
        )
    else:
        JournalDrainer(settings.journal_dir, write).run(lambda: bool(stop))


@sink.command("replay")
def sink_replay():
    """Replay spool files left by stopped web workers now."""
    from server.tracking.jobs import replay_spools

    click.echo(f"replayed {replay_spools(current_app._get_current_object())()} events")
