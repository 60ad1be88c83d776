"""The web server's worker: what it reads of signal handlers and which sockets it shuts down."""

from __future__ import annotations

import fcntl
import signal
import socket

from server.webworker import SIG_DFL, SIG_IGN, close_clients, os_handler


def test_os_handler_tells_default_ignored_and_installed_handlers_apart():
    previous = signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    try:
        assert os_handler(signal.SIGUSR1) == SIG_IGN
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        assert os_handler(signal.SIGUSR1) == SIG_DFL
        signal.signal(signal.SIGUSR1, lambda *_: None)
        assert os_handler(signal.SIGUSR1) not in (SIG_DFL, SIG_IGN)
    finally:
        signal.signal(signal.SIGUSR1, previous)


def is_shut_down(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1) == b""
    except BlockingIOError:
        return False


def test_close_clients_shuts_down_only_the_listeners_connections_and_keeps_flags():
    listener = socket.create_server(("127.0.0.1", 0))
    other = socket.create_server(("127.0.0.1", 0))
    ours_remote = socket.create_connection(listener.getsockname())
    ours, _ = listener.accept()
    theirs_remote = socket.create_connection(other.getsockname())
    theirs, _ = other.accept()
    blocking = socket.socket()  # a blocking socket some library owns, e.g. a database's
    flags = fcntl.fcntl(blocking.fileno(), fcntl.F_GETFL)
    socket.setdefaulttimeout(5)  # which makes socket(fileno=…) switch descriptors to non-blocking
    try:
        close_clients(listener.getsockname())
    finally:
        socket.setdefaulttimeout(None)
    assert fcntl.fcntl(blocking.fileno(), fcntl.F_GETFL) == flags
    assert is_shut_down(ours_remote)
    assert not is_shut_down(theirs_remote)
    # The listener still accepts: only accepted connections are shut down.
    with socket.create_connection(listener.getsockname()):
        listener.accept()[0].close()
    for sock in (listener, other, ours_remote, ours, theirs_remote, theirs, blocking):
        sock.close()
