"""Event ids: unique across processes, ordered in time."""

from __future__ import annotations

import os

from server.tracking.hits import new_event_id


def test_event_ids_are_unique_and_time_ordered():
    ids = [new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) <= 32 for i in ids)
    assert sorted(ids, key=lambda i: int(i[:16], 16)) == ids


def test_a_forked_process_gets_its_own_prefix():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_event_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    mine = new_event_id()
    assert child[16:24] != mine[16:24]
