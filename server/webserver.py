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
its last batch of hits to the event sink (server/webworker.py). A worker that dies is replaced.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time

from server.webworker import LOAD_FAILED, run_worker

log = logging.getLogger("leadcamp.web")

BACKLOG = 2048
RESPAWN_INTERVAL = 0.5
KILL_TIMEOUT = 30.0


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


class Master:
    """Forks the workers, replaces any that die, and stops them in order."""

    def __init__(self, sock: socket.socket, args: argparse.Namespace):
        self.sock, self.args = sock, args
        self.workers: set[int] = set()
        self.stopping = False
        self.failed = False

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; 1 when a worker could not load the app or did not stop
        cleanly."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        first = {self.spawn() for _ in range(self.args.workers)}
        log.info("listening on http://%s:%d", *self.sock.getsockname())
        while not self.stopping:
            time.sleep(0.1)
            for pid, code in self.reap():
                if code == LOAD_FAILED and pid in first:
                    # The app cannot start at all (a later failure may be passing: retried).
                    self.failed = self.stopping = True
                elif not self.stopping:
                    time.sleep(RESPAWN_INTERVAL)
                    if not self.stopping:  # a stop may have come during the pause
                        self.spawn()
        self.shutdown()
        log.info("stopped")
        return 1 if self.failed or self.workers else 0

    def _stop(self, *_) -> None:
        self.stopping = True

    def spawn(self) -> int:
        """Fork one worker; its pid."""
        # The child starts with SIGTERM blocked: a stop arriving before its stopper thread runs
        # waits for it, instead of reaching the master's handler inherited by the child.
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
        return pid

    def reap(self) -> list[tuple[int, int]]:
        """Collect workers that ended; returns their pids and exit codes."""
        ended = []
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            self.workers.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            if not self.stopping or code:
                log.warning("worker %d exited with %d", pid, code)
            if self.stopping and code:
                self.failed = True  # it may not have handed its last hits over
            ended.append((pid, code))
        return ended

    def shutdown(self) -> None:
        """Ask every worker to stop, then kill whatever is left."""
        # The workers close their copies as they stop accepting; with the last one closed, new
        # connections are refused at once (a proxy tries another upstream) instead of waiting.
        self.sock.close()
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
