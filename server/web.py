"""What the web server serves in each worker: the app behind an access log and a request timeout.

The web server (granian, started by `flask serve`) runs `wsgi:web`, this module's `served(app)`.
Granian itself has no timeout for a request the app never finishes, so each worker keeps one: a
watchdog thread that, when a request has run longer than WEB_REQUEST_TIMEOUT seconds, hands the
worker's buffered hits to the event sink and ends the worker; granian starts a fresh one. The other
workers answer meanwhile. Slow work (Gmail, imports, exports) runs as jobs, so this is a last line
of defence against a stuck call, never the normal path.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable

from config import env_flag, env_number

log = logging.getLogger("leadcamp.web")

TIMED_OUT = 70  # the worker's exit status after a request timeout (EX_SOFTWARE)
# A pixel or redirect path: its prefix and the key id, the part worth logging.
_TRACKING = re.compile(r"/([oc])/([A-Za-z0-9_-]{1,16})\.")
# A path segment that looks like a token, a message id or base64: long, from the base64 and
# itsdangerous alphabets, and not an all-lowercase route word like "subprocessors".
_TOKEN = re.compile(r"[A-Za-z0-9_.=~%-]{16,}")
_ROUTE_WORD = re.compile(r"[a-z.-]+")


class RequestWatchdog:
    """WSGI middleware: ends the worker when one request has run longer than `timeout` seconds."""

    def __init__(self, app, timeout: float, on_timeout: Callable[[], None], check: float = 1.0):
        self.app, self.timeout, self.on_timeout, self.check = app, timeout, on_timeout, check
        self.running: dict[int, tuple[float, str]] = {}
        self._thread: threading.Thread | None = None

    def __call__(self, environ, start_response):
        if self._thread is None:
            self._start()
        ident = threading.get_ident()
        self.running[ident] = (time.monotonic(), environ.get("PATH_INFO", ""))
        try:
            return self.app(environ, start_response)
        finally:
            self.running.pop(ident, None)

    def _start(self) -> None:
        # Started at the first request, in the worker: a thread started before a fork would not
        # survive into the child.
        self._thread = threading.Thread(target=self._watch, name="request-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.check)
            now = time.monotonic()
            for started, path in list(self.running.values()):
                if now - started > self.timeout:
                    self._expire(route_shape(path), now - started)

    def _expire(self, path: str, elapsed: float) -> None:
        log.error(
            "a request to %s ran %.0f s, past WEB_REQUEST_TIMEOUT (%s s): restarting worker %d",
            path,
            elapsed,
            self.timeout,
            os.getpid(),
        )
        # The hits this worker still holds go to the sink first; a stuck sink must not keep the
        # worker alive, so the hand-over gets a bounded time.
        closer = threading.Thread(target=self.on_timeout, daemon=True)
        closer.start()
        closer.join(timeout=10)
        os._exit(TIMED_OUT)


def route_shape(path: str) -> str:
    """`path` as a log may keep it: a pixel or redirect as its prefix and key id, and on other
    paths every address-like or token-like segment replaced, since both are personal data or
    secrets (a recipient's address, a click's target, a sign-in or invitation token)."""
    tracking = _TRACKING.match(path)
    if tracking:
        return f"/{tracking[1]}/{tracking[2]}.*"
    if path.startswith(("/o/", "/c/")):
        return path[:3] + "*"
    return "/".join(_segment_shape(segment) for segment in path.split("/"))


def _segment_shape(segment: str) -> str:
    if "@" in segment or "%40" in segment.lower():
        return "{address}"
    if _TOKEN.fullmatch(segment) and not _ROUTE_WORD.fullmatch(segment):
        return "{token}"
    return segment


def with_access_log(app):
    """`app`, logging method, route shape (`route_shape`), status and duration of each request:
    no query string, client address or user agent, which carry the recipient's personal data."""

    def logged(environ, start_response):
        started = time.perf_counter()
        status = []

        def recording(line, headers, exc_info=None):
            status.append(line)
            return start_response(line, headers, exc_info)

        result = app(environ, recording)
        elapsed = (time.perf_counter() - started) * 1000
        line = status[0][:3] if status else "-"
        path = route_shape(environ["PATH_INFO"])
        log.info('"%s %s" %s %.3f', environ["REQUEST_METHOD"], path, line, elapsed)
        return result

    return logged


def served(app, on_timeout: Callable[[], None], env=os.environ):
    """The WSGI callable a web worker serves: `app` under the request timeout (and the access log
    when ACCESS_LOG is true)."""
    wrapped = app
    if env_flag(env, "ACCESS_LOG", False):
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        wrapped = with_access_log(wrapped)
    timeout = env_number(env, "WEB_REQUEST_TIMEOUT", 30)
    return RequestWatchdog(wrapped, timeout, on_timeout) if timeout > 0 else wrapped
