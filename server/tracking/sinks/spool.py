"""A local append-only file of events that could not be written yet.

Each process spools to a file of its own and holds an exclusive lock on it while it lives. A file
whose lock can be taken belongs to a process that has gone (crashed or stopped while the database
was down), so another process may replay it. Replays are safe to repeat: every event carries an
idempotency key.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from server.common.files import private_dir, private_opener

log = logging.getLogger(__name__)


class Spool:
    """This process's spool file, created on first use."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._file = None
        self._pid = None

    def append(self, events: list[dict]) -> None:
        """Write events durably (flushed and fsynced) before returning."""
        handle = self._handle()
        handle.write("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))
        handle.flush()
        os.fsync(handle.fileno())

    def pending(self) -> bool:
        """Whether this process has spooled events not yet replayed."""
        return self._file is not None and self._pid == os.getpid() and self._file.tell() > 0

    def replay(self, write: Callable[[list[dict]], object], batch_size: int) -> int:
        """Write this process's spooled events through `write`, then empty the file."""
        if not self.pending():
            return 0
        count = _replay_path(Path(self._file.name), write, batch_size)
        self._file.truncate(0)
        self._file.seek(0)
        return count

    def close(self) -> None:
        """Release the file; an empty one is removed."""
        if self._file is None or self._pid != os.getpid():
            return
        empty = self._file.tell() == 0
        name = self._file.name
        self._file.close()
        self._file = None
        if empty:
            Path(name).unlink(missing_ok=True)

    def _handle(self):
        if self._file is None or self._pid != os.getpid():
            private_dir(self.directory)
            path = self.directory / f"events-{os.getpid()}-{time.time_ns()}.jsonl"
            self._file = open(  # noqa: SIM115 - held for life
                path, "a+", encoding="utf-8", opener=private_opener
            )
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._pid = os.getpid()
        return self._file


def _read(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            # A torn last line (killed mid-write) was never acknowledged as spooled; skip it.
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                log.warning("skipping a torn line in %s", path.name)


def _replay_path(path: Path, write: Callable[[list[dict]], object], batch_size: int) -> int:
    batch, count = [], 0
    for event in _read(path):
        batch.append(event)
        if len(batch) >= batch_size:
            write(batch)
            count += len(batch)
            batch = []
    if batch:
        write(batch)
        count += len(batch)
    return count


def replay_orphans(directory: Path, write: Callable[[list[dict]], object], batch_size: int) -> int:
    """Replay and remove spool files left by processes that are gone; returns events replayed."""
    total = 0
    for path in sorted(Path(directory).glob("events-*.jsonl")):
        with open(path, "a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive and replays it itself
            total += _replay_path(path, write, batch_size)
            path.unlink()
    return total
