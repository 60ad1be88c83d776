"""Running the app's job queue in a test: the real Huey storage the settings choose (SQLite under
the test's instance path), its tasks executed here, one by one, as the worker would."""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager

from server.extensions import db


def queue_of(app):
    """The Huey instance the app's views enqueue on."""
    return app.extensions["leadcamp.jobs"].huey


def pending(app) -> int:
    """How many tasks wait in the queue."""
    return queue_of(app).pending_count()


def run_jobs(app) -> int:
    """Execute every queued task, in order, in this thread (as a worker would); how many ran.

    The test's session is committed first (the worker must see what the test wrote) and expired
    after (so it sees what the worker wrote)."""
    db.session.commit()
    huey, ran = queue_of(app), 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    db.session.expire_all()
    return ran


def follow(client, response, headers=None) -> dict:
    """Run the queued jobs, then read the run behind a 202 answer from its status URL."""
    assert response.status_code == 202, response.get_json()
    run_jobs(client.application)
    return client.get(response.headers["Location"], headers=headers).get_json()


@contextmanager
def worker(app, workers: int = 2):
    """A Huey consumer on the app's queue, in threads of this process, for the `with` block
    (periodic tasks off; the test's signal handlers are left as they were)."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    handlers = {s: signal.getsignal(s) for s in signals}
    consumer = queue_of(app).create_consumer(
        workers=workers, worker_type="thread", periodic=False, check_worker_health=False
    )
    consumer.start()
    for number, handler in handlers.items():
        signal.signal(number, handler)
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)


def poll(client, url: str, headers=None, timeout: float = 30) -> list[dict]:
    """GET `url` until the run it names has ended, as a client polling it would; every answer."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(client.get(url, headers=headers).get_json())
        # As a request's end does in production: the next read sees what the worker wrote
        # since, and the token's last use, written by the read, does not hold SQLite's lock.
        db.session.commit()
        if seen[-1]["status"] not in ("queued", "running"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the run did not end within {timeout} s: {seen[-1]}")
