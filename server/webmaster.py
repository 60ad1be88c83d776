"""`python -m server.webmaster`: granian's own command line, with one listening socket that the
master holds and every worker accepts from.

On Linux granian gives each worker a socket of its own (SO_REUSEPORT). Connections waiting in a
worker's queue are then reset when that worker exits, and while no worker is listening (a reload
of one worker, a crash) new ones are refused: a recipient's pixel or click lost. One shared
socket, as gunicorn and uWSGI keep it, lets connections wait in the backlog for the next worker.
granian already serves a shared socket on other platforms and for Unix sockets; this only takes
that path on Linux too. The version is pinned in requirements.txt; tests/test_web.py proves it.

A stopping worker (a reload, a shutdown) first stops taking connections, then lets the ones it
already took start their request, and only then asks granian to stop. hyper closes a connection
that has not yet delivered a byte when its graceful shutdown begins (hyperium/hyper#2730): a
pixel request that raced a reload was answered by a closed connection. The listening socket
also defers accepting until the request's first bytes arrive (TCP_DEFER_ACCEPT), so a worker
never holds a silent connection.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import threading

import granian._signals
import granian.cli
from granian.net import SocketSpec
from granian.server import MPServer

from server.common.process import die_with_parent

# Seconds a stopping worker gives the connections it already took to start their request.
ACCEPTED_GRACE = 0.25
# Seconds the kernel holds a connection that sent nothing before handing it to a worker anyway.
DEFER_ACCEPT = 5
listening = {"inode": None}
original_sync_signals = granian._signals.set_sync_signals


class SharedSocketServer(MPServer):
    """granian's process-per-worker server, every worker on the master's one listening socket."""

    def _init_shared_socket(self):
        if self.bind_uds:
            return super()._init_shared_socket()
        self._ssp = None
        self._shd = SocketSpec(self.bind_addr, self.bind_port, self.backlog).build()
        self._sfd = self._shd.get_fd()
        self._sso = socket.socket(fileno=self._sfd)
        self._sso.set_inheritable(True)
        if hasattr(socket, "TCP_DEFER_ACCEPT"):
            self._sso.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, DEFER_ACCEPT)
        listening["inode"] = os.fstat(self._sfd).st_ino
        return None


def stop_accepting(inode: int | None) -> None:
    """Point every descriptor of the shared listening socket in this process at a private,
    empty one: the worker's accept loop then finds nothing, and the backlog goes to the others.

    Closing the descriptors instead would let the descriptor numbers be reused under the accept
    loop; the listening socket itself stays open in the master and the other workers.
    """
    if inode is None:
        return
    empty = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    empty.bind(("127.0.0.1", 0))
    empty.listen(1)
    empty.setblocking(False)
    for name in os.listdir("/proc/self/fd"):
        try:
            info = os.fstat(int(name))
        except OSError:
            continue
        if stat.S_ISSOCK(info.st_mode) and info.st_ino == inode:
            os.dup2(empty.fileno(), int(name), inheritable=False)
    empty.close()


def staged_sync_signals():
    """granian's worker stop signal, set only after the worker stopped accepting and the
    connections it took had `ACCEPTED_GRACE` seconds to start their request."""
    event = original_sync_signals()
    started = threading.Event()

    def handler(signum, frame):
        if started.is_set():
            return
        started.set()
        stop_accepting(listening["inode"])
        threading.Timer(ACCEPTED_GRACE, event.set).start()

    granian._signals.set_main_signals(handler)
    return event


def worker_forked(master: int) -> None:
    """In a new worker: end with the master, even one killed outright.

    The worker still carries the master's signal handlers until granian installs its own, after
    loading the app; the default action meanwhile ends it at once (it holds no hit yet).
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    die_with_parent(signal.SIGTERM, parent=master)


if __name__ == "__main__":
    master = os.getpid()
    os.register_at_fork(after_in_child=lambda: worker_forked(master))
    granian.cli.Server = SharedSocketServer
    granian._signals.set_sync_signals = staged_sync_signals
    granian.cli.entrypoint()
