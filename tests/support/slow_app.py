"""A tiny WSGI app for the web server's own tests: a request that takes a while, behind the same
watchdog the real app is served with, whose timeout hook leaves a trace."""

from __future__ import annotations

import os
import time

from server.web import served


def app(environ, start_response):
    """`/slow?S` answers after S seconds; `/pid` names the worker; anything else at once."""
    if environ["PATH_INFO"] == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or 1))
    body = str(os.getpid()).encode() if environ["PATH_INFO"] == "/pid" else b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def on_timeout() -> None:
    """Append this worker's pid to the file HOOK_FILE names."""
    with open(os.environ["HOOK_FILE"], "a") as trace:
        trace.write(f"{os.getpid()}\n")


web = served(app, on_timeout)
