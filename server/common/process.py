"""Tie a process's life to its parent's, so no process of the service outlives its supervisor."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> None:
    """Ask Linux to send `sig` to this process when its parent ends (a no-op elsewhere).

    A supervisor killed with SIGKILL (the OOM killer, a stop timeout, `docker kill`) cannot stop
    its children itself; the kernel's parent-death signal does it for them. `parent` is the pid the
    caller expects as its parent (by default: any but init).
    """
    if not hasattr(os, "sched_getaffinity"):  # not Linux: no prctl
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # The parent may have ended before the request above: then nobody would ever send the signal.
    if os.getppid() == 1 or parent not in (None, os.getppid()):
        os.kill(os.getpid(), sig)
