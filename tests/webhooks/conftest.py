"""A real local receiver: an http.server thread on 127.0.0.1 that records every request."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server.accounts import users as accounts
from server.extensions import db
from server.webhooks import endpoints

LOCAL = "127.0.0.1/32"  # the explicit allowance the tests give their endpoints


class Receiver:
    """Records (headers, body) of each POST and answers `status`; can go down and come back on
    the same port."""

    def __init__(self, tls=None):
        self.tls = tls  # a server SSLContext: the receiver speaks HTTPS
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 204
        self.port = 0
        self._server = None
        self.start()

    def start(self) -> None:
        """Listen (again) on the receiver's port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.running = True

    def stop(self) -> None:
        """Stop listening: attempts meet a refused connection."""
        self._server.shutdown()
        self._server.server_close()
        self.running = False

    @property
    def url(self) -> str:
        """The receiver's URL."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hooks?src=leadcamp"


@pytest.fixture
def receiver():
    """A running receiver, stopped after the test."""
    r = Receiver()
    yield r
    if r.running:
        r.stop()


@pytest.fixture
def hook_admin(app):
    """An admin of Acme with an API token."""
    user = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    token = accounts.create_api_token(db.session, user)
    db.session.commit()
    return user, token


@pytest.fixture
def endpoint(app, hook_admin, receiver):
    """An endpoint of the admin's account at the receiver, allowed 127.0.0.1 explicitly;
    (endpoint, secret)."""
    secret_key = app.config["LEADCAMP"].secret_key
    data = {"url": receiver.url, "allow_private": LOCAL}
    found = endpoints.create(db.session, secret_key, hook_admin[0], data)
    db.session.commit()
    return found
