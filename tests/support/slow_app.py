"""A tiny WSGI app for the web server's own tests: a request that takes a while, and an exit hook
that leaves a trace, so a stop can be watched from outside."""

from __future__ import annotations

import os
import time


def app(environ, start_response):
    """`/slow?S` answers after S seconds; anything else at once."""
    if environ["PATH_INFO"] == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or 1))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def on_worker_exit() -> None:
    """Append this worker's pid to the file HOOK_FILE names."""
    with open(os.environ["HOOK_FILE"], "a") as trace:
        trace.write(f"{os.getpid()}\n")
