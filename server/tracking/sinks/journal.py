"""A local journal between the web workers and the writer process.

With EVENT_SINK=journal a web worker's flusher does not write to the database: it hands each batch
to this journal, one file per batch written and fsynced under a temporary name, then renamed into
place, so a batch is either wholly there or absent. The writer process (`flask sink drain`)
stores the batches in order and deletes each file after its commit. The web workers then spend
nothing on the database (no driver work, no lock on the interpreter shared with requests), a batch
handed over survives its worker, and while the database is down the journal simply grows.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import marshal
import os
import time
from collections.abc import Callable
from pathlib import Path

from server.common.files import private_dir, private_opener

log = logging.getLogger(__name__)

SUFFIX = ".batch"
STALE_TEMP_SECONDS = 3600


class Journal:
    """Appends batches as files in `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._sequence = itertools.count()

    def append(self, events: list[dict]) -> None:
        """Store one batch durably; returns once it is on disk under its final name."""
        private_dir(self.directory)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence)}"
        temporary = self.directory / f".{name}.tmp"
        # marshal: the fastest codec for plain dicts of str/float/int/None, and these files are
        # only ever read back by this server from its own instance directory.
        with open(temporary, "wb", opener=private_opener) as handle:
            handle.write(marshal.dumps(events))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / f"{name}{SUFFIX}")


class WriterStopped(RuntimeError):
    """The writer must not go on: another one holds the journal, or the database it opened is no
    longer the configured one. Its batches stay where they are for the right writer."""


class JournalDrainer:
    """Writes the journal's batches to the database, oldest first; one drainer per directory."""

    def __init__(self, directory: Path, write: Callable[[list[dict]], object]):
        self.directory = Path(directory)
        self.write = write

    def drain_once(self) -> int:
        """Store every complete batch now; returns the number of events written."""
        total = 0
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            events = marshal.loads(path.read_bytes())
            self.write(events)
            path.unlink()
            total += len(events)
        return total

    def run(self, should_stop: Callable[[], bool], idle_sleep: float = 0.1) -> None:
        """Drain until `should_stop()`, then once more; back off while the database is down."""
        private_dir(self.directory)
        with self._exclusive():
            failures = 0
            while not should_stop():
                try:
                    if not self.drain_once():
                        self._sweep()
                        time.sleep(idle_sleep)
                    failures = 0
                except WriterStopped:
                    raise
                except Exception as exc:
                    failures += 1
                    log.warning("journal write failed (%s); retrying", type(exc).__name__)
                    time.sleep(min(5.0, 0.25 * 2**failures))
            self._final_pass()

    @contextlib.contextmanager
    def _exclusive(self):
        # One writer per journal: two would store a batch twice or out of order.
        path = self.directory / ".drainer.lock"
        with open(path, "a+", opener=private_opener) as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "unknown"
                raise WriterStopped(
                    f"another writer (pid {holder}) is already draining {self.directory}; "
                    "stop it first, or give this instance its own JOURNAL_DIR"
                ) from None
            lock.truncate(0)
            lock.write(str(os.getpid()))
            lock.flush()
            yield

    def _final_pass(self, attempts: int = 20) -> None:
        for _ in range(attempts):
            try:
                self.drain_once()
                return
            except WriterStopped:
                raise
            except Exception as exc:
                log.warning("journal write failed at shutdown (%s)", type(exc).__name__)
                time.sleep(0.5)
        log.error("batches left in %s; they are written at the next start", self.directory)

    def _sweep(self) -> None:
        # A worker killed while writing leaves a temporary file that will never be renamed.
        cutoff = time.time() - STALE_TEMP_SECONDS
        for path in self.directory.glob(".*.tmp"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
