"""The built extension in Debian's headless Chromium, a Gmail-like page routed at
https://mail.google.com/, and the real server (behind a TCP proxy that can cut it off)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.live import ROOT, LiveServer, base_env, flask_cli, free_port, http_get
from tests.support.tcpproxy import TcpProxy

EXTENSION = ROOT / "extension"
DIST = EXTENSION / "dist-test"
PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "pages"), autoescape=select_autoescape()
)
REP = "rep@acme.test"
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)

pytestmark = pytest.mark.server


def build_test_extension() -> Path:
    """The test build (fake Gmail adapter), always made afresh from the sources (esbuild takes a
    second), so the tests never drive a stale build."""
    if not (EXTENSION / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True)
    env = os.environ | {"LEADCAMP_SERVER_URL": "http://127.0.0.1"}
    subprocess.run(["node", "build.mjs", "--test"], cwd=EXTENSION, check=True, env=env)
    return DIST


@dataclass
class Server:
    """The live server, the proxy the extension and the recipients reach it through, and a token."""

    live: LiveServer
    proxy: TcpProxy
    env: dict
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"

    def api(self, path: str, token: str = "") -> tuple[int, dict]:
        status, body = http_get(
            self.live.port, "/api/v1" + path, {"Authorization": f"Bearer {token or self.token}"}
        )
        return status, json.loads(body or b"{}")

    def post(self, path: str, body: dict, token: str = "") -> tuple[int, dict]:
        """One API POST, as the rep (or as the owner of `token`)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.live.port, timeout=10)
        try:
            headers = {
                "Authorization": f"Bearer {token or self.token}",
                "Content-Type": "application/json",
            }
            conn.request("POST", "/api/v1" + path, body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def answered(self, method: str, path: str) -> list[int]:
        """The statuses the server has answered `method path` with so far (its access log)."""
        line = re.compile(rf'"{method} {re.escape(path)}" (\d{{3}}) ')
        log = self.live.log_path.read_text("utf-8", errors="replace")
        return [int(status) for status in line.findall(log)]

    def cut(self) -> None:
        self.proxy.cut()

    def restore(self) -> None:
        self.proxy = TcpProxy(("127.0.0.1", self.live.port), self.proxy.port).start()

    @contextlib.contextmanager
    def stalled(self):
        """The server hanging: connections to it are taken (the kernel completes them) and never
        answered, until the block ends and the proxy is back."""
        self.proxy.cut()
        listener = socket.create_server(("127.0.0.1", self.proxy.port), backlog=64)
        try:
            yield
        finally:
            listener.close()
            self.restore()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A migrated SQLite server with one rep; hits are classified without the scanner window."""
    tmp = tmp_path_factory.mktemp("extension-e2e")
    port = free_port()
    env = base_env(
        f"sqlite:///{tmp / 'e2e.db'}",
        tmp,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        SCANNER_WINDOW_SECONDS="0",
        # The lead opens seconds before the rep looks at the message; keep those apart.
        SELF_VIEW_WINDOW_SECONDS="1",
        # One address signs in, connects and is refused again and again here; the limits
        # themselves are tested in tests/auth/test_throttle.py.
        RATE_LIMIT_SIGN_IN="1000 per minute",
        RATE_LIMIT_CONNECT="1000 per minute",
        RATE_LIMIT_BAD_TOKENS="1000 per minute",
    )
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "users", "create", REP, "--account", "Acme")
    # The access log tells the tests which requests the extension made and how they were answered.
    live = LiveServer({**env, "ACCESS_LOG": "true"}, tmp / "server.log").start()
    proxy = TcpProxy(("127.0.0.1", live.port), port).start()
    srv = Server(live, proxy, env, token=flask_cli(env, "tokens", "create", REP).strip())
    yield srv
    srv.proxy.cut()
    live.stop()


@dataclass
class Mailbox:
    """What the routed Gmail serves, and what was "sent" through it."""

    user: str = REP
    rows: list = field(default_factory=list)
    threads: list = field(default_factory=list)
    compose: bool = True
    sent: list = field(default_factory=list)
    answered: list = field(default_factory=list)  # Gmail's ids for each message sent
    proxied: list = field(default_factory=list)
    thread_id: str = "18c2a5f0e1d2b3a4"
    on_send: object = None  # called as Gmail sends, before it answers
    failures: int = 0  # sends Gmail fails (500) before it takes one again
    attempts: list = field(default_factory=list)  # every send Gmail was asked for, failed or not


def _gmail_route(mailbox: Mailbox):
    def handle(route):
        request = route.request
        if request.url.endswith("/mail/u/0/fake-send"):
            mailbox.attempts.append(json.loads(request.post_data))
            if mailbox.failures:
                mailbox.failures -= 1
                return route.fulfill(status=500, content_type="application/json", body="{}")
            mailbox.sent.append(json.loads(request.post_data))
            if mailbox.on_send:
                mailbox.on_send()
            ids = {
                "messageId": f"18c2a5f0e1d2b3{len(mailbox.sent):02d}",
                "threadId": mailbox.thread_id,
            }
            mailbox.answered.append(ids)
            return route.fulfill(status=200, content_type="application/json", body=json.dumps(ids))
        if request.resource_type != "document":
            return route.fulfill(status=204)
        page = PAGES.get_template("gmail.html").render(vars(mailbox))
        return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page)

    return handle


def _image_proxy_route(mailbox: Mailbox):
    """Gmail's image proxy, as far as the tests need it: each request recorded and answered with a
    GIF. The rep's own pixel must never reach it, so it never fetches the original."""

    def handle(route):
        mailbox.proxied.append(route.request.url)
        return route.fulfill(status=200, content_type="image/gif", body=GIF)

    return handle


@pytest.fixture(scope="module")
def browser(playwright, tmp_path_factory):
    """Chromium with the test build of the extension loaded."""
    dist = build_test_extension()
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=False,  # the real flag is below: extensions load only in the new headless
        args=[
            "--headless=new",
            f"--disable-extensions-except={dist}",
            f"--load-extension={dist}",
            *CHROMIUM_ARGS,
        ],
    )
    context.set_default_timeout(20000)
    yield context
    context.close()


@pytest.fixture(scope="module")
def extension_id(browser) -> str:
    """The loaded extension's id, from its service worker."""
    worker = (
        browser.service_workers[0]
        if browser.service_workers
        else browser.wait_for_event("serviceworker")
    )
    return re.match(r"chrome-extension://([a-p]{32})/", worker.url).group(1)


@pytest.fixture(scope="module")
def mailbox(browser) -> Mailbox:
    """The routed Gmail and Gmail's image proxy."""
    box = Mailbox()
    browser.route("https://mail.google.com/**", _gmail_route(box))
    browser.route(
        re.compile(r"^https://[a-z0-9-]+\.googleusercontent\.com/.*"), _image_proxy_route(box)
    )
    return box


def eventually(page, check, timeout=20.0):
    """Poll `check` until it returns something truthy; fail otherwise. Waiting through the page
    keeps Playwright's event loop (and so the routed Gmail) running."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, "condition not met in time"
            return result
        page.wait_for_timeout(250)


def connect(browser, options, server):
    """Connect the extension through its options page and the server's sign-in page (the rep is
    signed in to the server in this browser)."""
    options.fill("#server-url", server.url)
    with browser.expect_page() as confirm_info:
        options.click("#connect")
    confirm = confirm_info.value
    confirm.wait_for_selector("#connect")
    assert REP in confirm.text_content("main")
    confirm.click("#connect")
    options.wait_for_selector("#connection[data-connected=true]")
    eventually(options, lambda: REP in options.text_content("#connection"))
    eventually(options, confirm.is_closed)  # the worker closes the tab once it has the code


@pytest.fixture(scope="module")
def connected(browser, extension_id, server, mailbox):
    """Connect the extension through its options page and the server's sign-in."""
    login = flask_cli(server.env, "users", "login-link", REP).strip()
    page = browser.new_page()
    page.goto(login)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    options = browser.new_page()
    options.goto(f"chrome-extension://{extension_id}/options.html")
    options.wait_for_selector("body[data-ready]")
    connect(browser, options, server)
    page.close()
    return options
