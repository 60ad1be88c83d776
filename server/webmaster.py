"""`python -m server.webmaster`: granian's own command line, with one listening socket that the
master holds and every worker accepts from.

On Linux granian gives each worker a socket of its own (SO_REUSEPORT). Connections waiting in a
worker's queue are then reset when that worker exits, and while no worker is listening (a reload
of one worker, a crash) new ones are refused: a recipient's pixel or click lost. One shared
socket, as gunicorn and uWSGI keep it, lets connections wait in the backlog for the next worker.
granian already serves a shared socket on other platforms and for Unix sockets; this only takes
that path on Linux too. The version is pinned in requirements.txt; tests/test_web.py proves it.
"""

from __future__ import annotations

import os
import signal
import socket

import granian.cli
from granian.net import SocketSpec
from granian.server import MPServer

from server.common.process import die_with_parent


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
        return None


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
    granian.cli.entrypoint()
