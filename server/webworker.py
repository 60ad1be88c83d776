"""One worker of the web server (server/webserver.py): a bjoern loop and the thread that stops it.

Stopping leans on bjoern's own SIGINT handling (libev's signal watcher): it stops accepting, and
the loop returns once every open connection is closed. Two libev details shape the code below:
after that SIGINT it puts the signal's default action (terminate) back, so a second SIGINT, from
a supervisor that signals every process of the service, would kill the worker before its exit
hook; and a SIGINT arriving just before its watcher is installed goes to Python's handler, which
the running loop never looks at. The stopper thread therefore sends the SIGINT only to a watcher
that is in place, and then ignores SIGINT for good.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import importlib
import logging
import os
import signal
import socket
import threading
import time

log = logging.getLogger("leadcamp.web")

LOAD_FAILED = 3  # a worker's exit code when the app cannot be imported
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
SIG_DFL, SIG_IGN = 0, 1
_libc = ctypes.CDLL(None, use_errno=True)
_libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
_libc.signal.restype = ctypes.c_void_p


def os_handler(signum: int) -> int:
    """The handler the kernel has for `signum`: SIG_DFL, SIG_IGN or a function's address.

    signal.getsignal() shows Python's own table, which libev bypasses.
    """
    action = ctypes.create_string_buffer(256)  # a struct sigaction; its first member is the handler
    _libc.sigaction(signum, None, action)
    return ctypes.c_void_p.from_buffer(action).value or SIG_DFL


class Phase:
    """Whether the worker is still loading the app or already serving, and whether a stop came;
    one lock, so a stop is never missed between the two."""

    def __init__(self):
        self.lock = threading.Lock()
        self.serving = False
        self.stopping = False

    def start_serving(self) -> bool:
        """Called once the app is loaded; False when a stop came meanwhile."""
        with self.lock:
            self.serving = not self.stopping
            return self.serving

    def stop(self) -> bool:
        """Record the stop; whether the loop is (about to be) running."""
        with self.lock:
            self.stopping = True
            return self.serving


def stop_accepting(python_handler: int) -> None:
    """Have bjoern stop accepting, exactly once, then make any later SIGINT harmless."""
    handler = os_handler(signal.SIGINT)
    while handler == python_handler:  # the loop is starting: wait for libev's watcher
        time.sleep(0.001)
        handler = os_handler(signal.SIGINT)
    if handler != SIG_DFL:  # SIG_DFL: bjoern already took one SIGINT, from outside
        os.kill(os.getpid(), signal.SIGINT)
    # libev handles it between two requests, so a slow one delays this; only then may SIGINT be
    # ignored (libev would put the default back over an earlier SIG_IGN). The master's kill
    # bounds the wait.
    while os_handler(signal.SIGINT) != SIG_DFL:
        time.sleep(0.001)
    # bjoern still raises KeyboardInterrupt when its loop ends: that goes by Python's table.
    _libc.signal(signal.SIGINT, SIG_IGN)


def close_clients(address: tuple[str, int]) -> None:
    """Shut down this process's accepted connections, so bjoern closes them and its loop ends."""
    host, port = address
    for name in os.listdir("/dev/fd"):
        fd = int(name)
        try:
            # Making a socket object may switch the descriptor to non-blocking (with a default
            # timeout set); put its flags back, as it may be a database's connection.
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            conn = socket.socket(fileno=fd)
        except OSError:  # not a socket, or already closed
            continue
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, flags)
            # Never a listening socket: the other workers share ours.
            listening = conn.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            if conn.family == socket.AF_INET and not listening:
                local_host, local_port = conn.getsockname()
                if local_port == port and host in ("0.0.0.0", local_host):
                    conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            conn.detach()  # bjoern owns the descriptor


def stop_when_told(listener: socket.socket, grace: float, phase: Phase, python_handler: int):
    """The stopper thread: on SIGTERM, stop accepting, then end connections that linger."""
    address = listener.getsockname()
    signal.sigwait({signal.SIGTERM})
    if not phase.stop():
        return  # still loading: the worker leaves once the app is loaded
    stop_accepting(python_handler)
    # Nobody accepts here any more; once every process has closed the socket the kernel refuses
    # new connections at once instead of letting them wait in the backlog.
    listener.close()
    time.sleep(grace)
    # A proxy's idle keep-alive connections would hold the loop open: close them, repeatedly, as
    # a request that was mid-way may leave one behind.
    while True:
        close_clients(address)
        time.sleep(0.1)


def stop_with_master(master: int) -> None:
    """Have the kernel send this worker SIGTERM if the master dies (Linux), so a master killed
    by a supervisor does not leave workers serving with nobody to stop them."""
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except AttributeError:  # not Linux: the master's own stop still applies
        return
    if os.getppid() != master:  # the master died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def load(target: str):
    """The WSGI app named by `module:attribute`, and the module's `on_worker_exit` hook."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "app"), getattr(module, "on_worker_exit", None)


def with_access_log(app):
    """`app`, logging method, path, status and duration of each request: no client address or
    user agent, which are personal data of the recipient."""

    def logged(environ, start_response):
        started = time.perf_counter()
        status = []

        def recording(line, headers, exc_info=None):
            status.append(line)
            return start_response(line, headers, exc_info)

        result = app(environ, recording)
        elapsed = (time.perf_counter() - started) * 1000
        line = status[0][:3] if status else "-"
        log.info('"%s %s" %s %.3f', environ["REQUEST_METHOD"], environ["PATH_INFO"], line, elapsed)
        return result

    return logged


def run_worker(sock: socket.socket, args: argparse.Namespace, master: int) -> int:
    """One worker: load the app, serve until told to stop, run the exit hook; the exit code."""
    import bjoern

    # Ctrl-C in a terminal reaches the master only; it stops the workers with SIGTERM, which only
    # the stopper thread takes (blocked here, and inherited blocked by every later thread).
    os.setpgid(0, 0)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    stop_with_master(master)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # LIBEV_FLAGS could make libev take signals through a signalfd: no SIGINT handler would then
    # show, and stop_accepting() relies on seeing it.
    os.environ.pop("LIBEV_FLAGS", None)
    phase = Phase()
    stopper = threading.Thread(
        target=stop_when_told,
        args=(sock, args.graceful_timeout, phase, os_handler(signal.SIGINT)),
        name="stopper",
        daemon=True,
    )
    stopper.start()
    try:
        app, hook = load(args.target)
    except KeyboardInterrupt:  # a SIGINT from outside while loading
        return 0
    except Exception:
        log.exception("worker %d could not load %s", os.getpid(), args.target)
        return LOAD_FAILED
    if not phase.start_serving():
        return 0  # stopped while loading, before serving anyone
    # bjoern turns the SIGINT it was sent into KeyboardInterrupt once its loop has ended.
    with contextlib.suppress(KeyboardInterrupt):
        bjoern.server_run(sock, with_access_log(app) if args.access_log else app)
    # Requests are handled on this thread only, so nothing is recorded after this point.
    if hook is not None:
        hook()
    return 0
