"""The mixed load: pixels while Gmail sends and a contact import run as jobs.

A stand-in for the Gmail API (the server's GMAIL_API_URL points at it) holds every send for
`SEND_DELAY_S`, as a slow Google would. While wrk loads the pixel, `SENDERS` clients each keep one
send in flight (ask, then poll the job until it ends, then ask again) and one client keeps a
`IMPORT_ROWS`-row CSV import in flight. Before the job runs existed, each of these held a web
worker for its whole length; now each is answered 202 at once and runs on the job worker.
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.fernet import Fernet

SENDERS = 7
SEND_DELAY_S = 5.0
IMPORT_ROWS = 10_000
POLL_S = 0.5
# After the measured run, how long the clients wait for the jobs they started to end.
SETTLE_S = 180.0
DONE = {"succeeded", "failed", "unknown"}


class FakeGmail:
    """Gmail's `users.messages.send` and `users.getProfile`, on 127.0.0.1, each send held
    `delay` seconds before its answer (Google's real payload shape)."""

    def __init__(self, delay: float = SEND_DELAY_S):
        self.sent = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(delay))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGmail:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self, delay: float):
        gmail = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.startswith("/gmail/v1/users/me/messages/send"):
                    return self._answer(404, {"error": {"code": 404, "message": "Not Found"}})
                time.sleep(delay)
                with gmail.lock:
                    gmail.sent += 1
                ids = secrets.token_hex(8)
                return self._answer(200, {"id": ids, "threadId": ids, "labelIds": ["SENT"]})

            def do_GET(self):
                if not self.path.startswith("/gmail/v1/users/me/profile"):
                    return self._answer(404, {"error": {"code": 404, "message": "Not Found"}})
                profile = {"emailAddress": "bench@example.com", "historyId": "1000"}
                return self._answer(200, {**profile, "messagesTotal": 0, "threadsTotal": 0})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler


def google_env(gmail_url: str) -> dict[str, str]:
    """Settings that make sending possible, with the Gmail API at `gmail_url`."""
    return {
        "GOOGLE_CLIENT_ID": "bench.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET": secrets.token_urlsafe(24),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "GMAIL_API_URL": gmail_url,
        # The stand-in answers sends only; the periodic mailbox sync stays out of the run.
        "GMAIL_SYNC_MINUTES": "1440",
    }


def connect_command(email: str) -> list[str]:
    """Store a connected mailbox (with the send scope) for the user `email`."""
    return [sys.executable, "-m", "bench.mailbox", email]


def worker_command() -> list[str]:
    """The job worker (`flask jobs worker`)."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"]


def import_csv(rows: int = IMPORT_ROWS) -> bytes:
    """A contacts CSV of `rows` new contacts."""
    lines = ["email,name,company"] + [
        f"lead{n}@import{n % 97}.example.com,Lead {n},Company {n % 97}" for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


class SlowWork:
    """The clients keeping sends and an import in flight against `base`, as `token`'s user."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.stopping = threading.Event()
        self.settle_by = 0.0
        self.job_s: dict[str, list[float]] = {"send": [], "import": []}
        self.accept_ms: dict[str, list[float]] = {"send": [], "import": []}
        self.finished: dict[str, list[str]] = {"send": [], "import": []}
        self.refusals: list[str] = []
        sends = [("send", self._send_request(n)) for n in range(SENDERS)]
        self.threads = [
            threading.Thread(target=self._keep_one_in_flight, args=args, daemon=True)
            for args in [*sends, ("import", self._import_request())]
        ]

    def start(self) -> None:
        """Start every client; return once each has had its first job accepted (or refused)."""
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self._all_started():
            time.sleep(0.05)

    def stop(self) -> dict:
        """Stop asking; let the jobs in flight end (up to SETTLE_S); return what the clients saw."""
        self.settle_by = time.monotonic() + SETTLE_S
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=SETTLE_S + 30)
        return {
            "senders": SENDERS,
            "send_delay_s": SEND_DELAY_S,
            "import_rows": IMPORT_ROWS,
            "sends_accepted": len(self.accept_ms["send"]),
            "imports_accepted": len(self.accept_ms["import"]),
            "sends_finished": _tally(self.finished["send"]),
            "imports_finished": _tally(self.finished["import"]),
            "send_accept_ms": _spread(self.accept_ms["send"]),
            "import_accept_ms": _spread(self.accept_ms["import"]),
            "send_job_s": _spread(self.job_s["send"]),
            "import_job_s": _spread(self.job_s["import"]),
            "refused": len(self.refusals),
            "refusals": self.refusals[:3],
        }

    def _all_started(self) -> bool:
        asked = len(self.accept_ms["send"]) + len(self.accept_ms["import"]) + len(self.refusals)
        return asked >= len(self.threads)

    def _keep_one_in_flight(self, kind: str, request) -> None:
        while not self.stopping.is_set():
            started = time.perf_counter()
            status, body = self._call(request())
            if status != 202:
                self.refusals.append(f"{kind}: {status} {body!r:.200}")
                self.stopping.wait(POLL_S)
                continue
            self.accept_ms[kind].append((time.perf_counter() - started) * 1000)
            ended = self._until_done("/api/v1/jobs/" + body["id"])
            if ended is not None:
                self.finished[kind].append(ended)
                self.job_s[kind].append(time.perf_counter() - started)

    def _until_done(self, path: str) -> str | None:
        """Poll a job run until it ends; its final status, or None when the bench gave up."""
        while not self.stopping.is_set() or time.monotonic() < self.settle_by:
            time.sleep(POLL_S)
            status, run = self._call(self._get(path))
            if status == 200 and run["status"] in DONE:
                return run["status"]
        return None

    def _send_request(self, n: int):
        body = {
            "recipients": [{"email": f"lead{n}@send.example.com"}],
            "subject": "Mixed-load bench",
            "html": '<p>Hello</p><p><a href="https://example.com/pricing">Pricing</a></p>',
        }
        data = json.dumps(body).encode()
        return lambda: self._post("/api/v1/messages/send", data, "application/json")

    def _import_request(self):
        data = import_csv()
        return lambda: self._post("/api/v1/contacts/import", data, "text/csv")

    def _post(self, path: str, data: bytes, content_type: str) -> urllib.request.Request:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        return urllib.request.Request(self.base + path, data, headers, method="POST")

    def _get(self, path: str) -> urllib.request.Request:
        headers = {"Authorization": f"Bearer {self.token}"}
        return urllib.request.Request(self.base + path, headers=headers)

    @staticmethod
    def _call(request: urllib.request.Request) -> tuple[int, dict | str]:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError as exc:
            return 0, str(exc)


def _tally(statuses: list[str]) -> dict[str, int]:
    return {status: statuses.count(status) for status in sorted(set(statuses))}


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "max": None}
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}
