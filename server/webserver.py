"""The production web server: pre-forked workers, each running one bjoern event loop.

bjoern parses HTTP in C and calls the WSGI application on the loop's own thread: no thread handing
requests to Python, so no contention for the interpreter lock per request. On this project's
2-core bench a bare WSGI function answered about twice as many requests as under granian, and the
tracking pixel gained as much (docs/performance.md). Each worker is single-threaded, like
granian's with one blocking thread: a slow request holds up that worker only.

Usage: `python -m server.webserver --port 5000 --workers 2 wsgi:app` (`flask serve` runs it).

Shutdown (SIGINT or SIGTERM to the master): each worker stops accepting and finishes the
connections it has; after `--graceful-timeout` seconds it shuts down those still open (a proxy's
idle keep-alive connections would otherwise hold it forever). Then, on the thread that handled
every request, it calls the target module's `on_worker_exit()` hook, which is where the app hands
its last batch of hits to the event sink. A worker that dies is replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import logging
import os
import signal
import socket
import sys
import threading
import time

log = logging.getLogger("leadcamp.web")

BACKLOG = 2048
RESPAWN_INTERVAL = 0.5
KILL_TIMEOUT = 30.0
LOAD_FAILED = 3  # a worker's exit code when the app cannot be imported
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m server.webserver")
    parser.add_argument("target", help="module:attribute of the WSGI app, e.g. wsgi:app")
    parser.add_argument("--host", default="127.0.0.1", help="an IPv4 address to listen on")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--graceful-timeout", type=float, default=5.0)
    parser.add_argument("--access-log", action="store_true")
    return parser.parse_args(argv)


def listen(host: str, port: int) -> socket.socket:
    """A non-blocking listening socket shared by all workers; exits with a reason on failure."""
    try:
        # bjoern reports client addresses of IPv4 sockets only; names resolve to IPv4.
        address = socket.gethostbyname(host)
    except OSError:
        reason = f"--host must be an IPv4 address or a name for one, not {host!r}"
        raise SystemExit(reason) from None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        raise SystemExit(f"cannot listen on {address}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    sock.listen(BACKLOG)
    return sock


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


def is_client_of(conn: socket.socket, listener: socket.socket) -> bool:
    """Whether `conn` is a connection `listener` accepted (same local port and address)."""
    if conn.family != socket.AF_INET or conn.fileno() == listener.fileno():
        return False
    host, port = listener.getsockname()
    local_host, local_port = conn.getsockname()
    return local_port == port and host in ("0.0.0.0", local_host)


def close_clients(listener: socket.socket) -> None:
    """Shut down this process's accepted connections, so bjoern closes them and its loop ends."""
    for name in os.listdir("/dev/fd"):
        try:
            conn = socket.socket(fileno=int(name))
        except (OSError, ValueError):  # not a socket, or already closed
            continue
        try:
            if is_client_of(conn, listener):
                conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            conn.detach()  # bjoern owns the descriptor


def stop_when_told(listener: socket.socket, grace: float) -> None:
    """The worker's stopper thread: on SIGTERM, stop accepting, then end lingering connections."""
    signal.sigwait({signal.SIGTERM})
    # bjoern's own SIGINT handling stops accepting and returns once every connection is closed.
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(grace)
    # A proxy's idle keep-alive connections would hold the loop open: close them, repeatedly, as
    # a request that was mid-way may leave one behind.
    while True:
        close_clients(listener)
        time.sleep(0.1)


def stop_with_master(master: int) -> None:
    """Have the kernel send this worker SIGTERM if the master dies (Linux), so a master killed
    by a supervisor does not leave workers serving with nobody to stop them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the master's own stop still applies
        return
    if os.getppid() != master:  # the master died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def run_worker(sock: socket.socket, args: argparse.Namespace, master: int) -> int:
    """One worker: load the app, serve until told to stop, run the exit hook; the exit code."""
    import bjoern

    # Ctrl-C in a terminal reaches the master only; it stops the workers with SIGTERM, which only
    # the stopper thread takes (blocked here, and inherited blocked by every later thread).
    os.setpgid(0, 0)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    stop_with_master(master)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stopper = threading.Thread(
        target=stop_when_told, args=(sock, args.graceful_timeout), name="stopper", daemon=True
    )
    stopper.start()
    try:
        app, hook = load(args.target)
    except KeyboardInterrupt:
        return 0
    except Exception:
        log.exception("worker %d could not load %s", os.getpid(), args.target)
        return LOAD_FAILED
    if args.access_log:
        app = with_access_log(app)
    # bjoern turns the SIGINT it was sent into KeyboardInterrupt once its loop has ended.
    with contextlib.suppress(KeyboardInterrupt):
        bjoern.server_run(sock, app)
    # Requests are handled on this thread only, so nothing is recorded after this point.
    if hook is not None:
        hook()
    return 0


class Master:
    """Forks the workers, replaces any that die, and stops them in order."""

    def __init__(self, sock: socket.socket, args: argparse.Namespace):
        self.sock, self.args = sock, args
        self.workers: set[int] = set()
        self.stopping = False
        self.failed = False

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; 1 when a worker could not load the app."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        for _ in range(self.args.workers):
            self.spawn()
        log.info("listening on http://%s:%d", *self.sock.getsockname())
        while not self.stopping:
            time.sleep(0.1)
            for code in self.reap():
                if code == LOAD_FAILED:
                    self.failed = self.stopping = True
                elif not self.stopping:
                    time.sleep(RESPAWN_INTERVAL)
                    self.spawn()
        self.shutdown()
        log.info("stopped")
        return 1 if self.failed else 0

    def _stop(self, *_) -> None:
        self.stopping = True

    def spawn(self) -> None:
        """Fork one worker."""
        # A stop signal arriving during the fork stays pending for the worker's stopper thread.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        master = os.getpid()
        pid = os.fork()
        if pid != 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        else:
            code = 1
            try:
                code = run_worker(self.sock, self.args, master)
            finally:
                logging.shutdown()
                os._exit(code)
        self.workers.add(pid)

    def reap(self) -> list[int]:
        """Collect workers that ended; returns their exit codes."""
        codes = []
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            self.workers.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            if not self.stopping or code:
                log.warning("worker %d exited with %d", pid, code)
            codes.append(code)
        return codes

    def shutdown(self) -> None:
        """Ask every worker to stop, then kill whatever is left."""
        self.signal_all(signal.SIGTERM)
        if not self.wait(self.args.graceful_timeout + KILL_TIMEOUT):
            log.error("workers %s did not stop in time; killing them", sorted(self.workers))
            self.signal_all(signal.SIGKILL)
            self.wait(5.0)

    def signal_all(self, sig: int) -> None:
        """Send `sig` to every worker still running."""
        for pid in self.workers:
            os.kill(pid, sig)

    def wait(self, timeout: float) -> bool:
        """Reap workers for up to `timeout` seconds; whether all have ended."""
        deadline = time.monotonic() + timeout
        while self.workers and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.05)
        return not self.workers


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(name)s: %(message)s")
    # `python -m` puts the working directory first already; the target is looked up there.
    return Master(listen(args.host, args.port), args).run()


if __name__ == "__main__":
    sys.exit(main())
