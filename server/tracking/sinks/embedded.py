"""The embedded event sink: batches in process, writes in bulk, spools while the database is down.

Events wait in memory for at most one flush interval (or until a batch fills), so a worker killed
with SIGKILL loses at most what it received in its last flush window. Graceful exits flush: our
web server's workers flush from atexit and multiprocessing's finalizers (granian ends its workers
with os._exit(), which skips atexit), and the request timeout calls `wsgi.on_worker_exit()`.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing import util as mp_util

from server.tracking.sinks.spool import Spool

log = logging.getLogger(__name__)

MAX_BACKOFF = 5.0


class EmbeddedSink:
    """Batches events and writes them with `write`; spools to disk on failure."""

    def __init__(
        self,
        write: Callable[[list[dict]], object],
        spool: Spool,
        flush_interval: float = 0.25,
        batch_size: int = 2000,
    ):
        self.write = write
        self.spool = spool
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self._reset()
        # Locks, buffers and threads do not survive fork; checking the pid on every put would
        # cost a system call per hit. A weak reference, so a discarded sink can be collected.
        reset = weakref.WeakMethod(self._reset)
        os.register_at_fork(after_in_child=lambda: (method := reset()) and method())

    def _reset(self) -> None:
        self._lock = threading.Lock()
        # One flush at a time: a flush that finds the buffer empty must still wait for the one
        # writing the previous batch, or "flushed" could return before those events are stored.
        self._flushing = threading.Lock()
        self._buffer: list[dict] = []
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._failures = 0

    def put(self, event: dict) -> None:
        """Queue one event; never touches the database."""
        if self._thread is None:
            self._start()
        with self._lock:
            self._buffer.append(event)
            full = len(self._buffer) >= self.batch_size
        if full:
            self._wake.set()

    def close(self) -> None:
        """Stop the flusher and deliver what is held: to the database, else to the spool."""
        if self._stopping:
            return
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._retry_at = 0.0
        self.flush()
        self.spool.close()

    def flush(self) -> None:
        """Write the buffered batch now; used by the flusher thread and at shutdown."""
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, []
        if time.monotonic() < self._retry_at:
            if batch:
                self.spool.append(batch)
            return
        try:
            if self.spool.pending():
                self.spool.replay(self.write, self.batch_size)
            if batch:
                self.write(batch)
                batch = []
            self._failures = 0
        except Exception as exc:
            self._failures += 1
            self._retry_at = time.monotonic() + min(MAX_BACKOFF, 0.25 * 2**self._failures)
            log.warning(
                "event write failed (%s); spooling %d events", type(exc).__name__, len(batch)
            )
            if batch:
                self.spool.append(batch)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="event-sink", daemon=True)
            self._thread.start()
        atexit.register(self.close)
        # multiprocessing runs these when a worker process ends, even when it then calls
        # os._exit() and skips atexit (granian's and billiard-style workers do), for whoever runs
        # wsgi:app under another server.
        mp_util.Finalize(self, self.close, exitpriority=100)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self.flush()
            except Exception:
                log.exception("event sink flush failed")
