"""A stand-in for Google's HTTP APIs, served through `responses` with Google's real payload shapes.

It plays Google's side faithfully enough to fail the code under test when it is wrong: codes
are exchanged only with the PKCE verifier matching the challenge of the authorization URL,
Gmail calls need a live access token (401 otherwise), refresh tokens can be revoked
(invalid_grant), history ids can expire (404), and batches are real multipart/mixed exchanges.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from collections import Counter, defaultdict
from email.parser import BytesParser, Parser
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import responses
from cryptography.fernet import Fernet

TOKEN_URL = "https://oauth2.googleapis.com/token"
USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
GMAIL = "https://gmail.googleapis.com/gmail/v1/users/me"
BATCH_URL = "https://gmail.googleapis.com/batch"
CLIENT_ID = "1234567890-abcdefghijklmnop.apps.googleusercontent.com"
METADATA = "https://www.googleapis.com/auth/gmail.metadata"
SEND = "https://www.googleapis.com/auth/gmail.send"
READONLY = "https://www.googleapis.com/auth/gmail.readonly"
SIGN_IN = [
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
]


def with_google(settings):
    """Settings with a Google client and a fresh token encryption key."""
    return settings.replace(
        google_client_id=CLIENT_ID,
        google_client_secret="GOCSPX-test-secret",
        token_encryption_keys=(Fernet.generate_key().decode(),),
    )


def _error(code: int, message: str, reason: str, status: str) -> tuple[int, dict, str]:
    body = {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }
    }
    return code, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body)


UNAUTHENTICATED = (
    401,
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.",
    "authError",
    "UNAUTHENTICATED",
)
RATE_LIMITED = (
    429,
    "Too many concurrent requests for user.",
    "rateLimitExceeded",
    "RESOURCE_EXHAUSTED",
)
FULL_FORBIDDEN = (403, "Metadata scope doesn't allow format FULL", "forbidden", "PERMISSION_DENIED")
Q_FORBIDDEN = (
    403,
    "Metadata scope does not support 'q' parameter",
    "forbidden",
    "PERMISSION_DENIED",
)
NOT_FOUND = (404, "Requested entity was not found.", "notFound", "NOT_FOUND")
WATCH_DAYS = 7  # how long Gmail keeps a users.watch


def pubsub_forbidden(topic: str) -> tuple:
    """Gmail's answer to users.watch on a topic it may not publish to (or that does not exist)."""
    message = (
        f"Error sending test message to Cloud PubSub {topic} : "
        "User not authorized to perform this action."
    )
    return 403, message, "forbidden", "PERMISSION_DENIED"


_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def _form(request) -> dict:
    body = request.body or ""
    return dict(parse_qsl(body.decode() if isinstance(body, bytes) else body))


def _ok(body: dict) -> tuple[int, dict, str]:
    return 200, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body)


class FakeGoogle:
    """Google's OAuth endpoints and one Gmail mailbox."""

    def __init__(self, rsps: responses.RequestsMock, email: str = "rep@acme.test"):
        self.email = email
        self.rsps = rsps  # other fakes (Pub/Sub) answer on the same mock
        self.pending: dict[str, dict] = {}  # authorization code -> what was consented
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> granted scope
        self.access_tokens: dict[str, str] = {}  # access token -> granted scope
        self.revoked: list[str] = []
        self.token_requests: list[dict] = []
        self.messages: dict[str, dict] = {}
        self.deleted: dict[str, dict] = {}
        self.bodies: dict[str, str] = {}
        self.history: list[tuple[int, str]] = []
        self.history_id = 5000
        self.oldest_history = 0
        self.page_size = 2
        # Mail in this mailbox starts a day ago, a minute apart.
        self.epoch_ms = int(time.time() - 86400) * 1000
        self.calls: Counter[str] = Counter()
        self.sent: list[dict] = []
        self.threads_read: list[str] = []  # threads.get ids, in the order they were asked for
        self.failures: dict[str, list[tuple]] = defaultdict(list)
        self.lost: dict[str, list[Exception]] = defaultdict(list)
        # Pub/Sub topics Gmail was granted publish rights on, and the mailbox's watch, if any.
        self.topics: set[str] = set()
        self.watching: dict | None = None
        self._ids = itertools.count(0x18C2A5F0E1D20000)
        rsps.add_callback(responses.POST, TOKEN_URL, self._token)
        rsps.add_callback(responses.GET, USERINFO_URL, self._userinfo)
        rsps.add_callback(responses.POST, REVOKE_URL, self._revoke)
        rsps.add_callback(responses.POST, BATCH_URL, self._batch)
        for method in (responses.GET, responses.POST):
            rsps.add_callback(method, re.compile(re.escape(GMAIL) + r"/.*"), self._gmail)

    # --- OAuth -------------------------------------------------------------------------------

    def consent(self, authorization_url: str, granted: list[str] | None = None, **who) -> str:
        """Play the person consenting at Google; returns the callback's query string."""
        query = dict(parse_qsl(urlsplit(authorization_url).query))
        code = "4/0A" + secrets.token_urlsafe(30)
        self.pending[code] = {
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
            "scope": " ".join(granted if granted is not None else self._full(query["scope"])),
            "email": who.get("email", self.email),
            "verified": who.get("verified", True),
            "offline": query.get("access_type") == "offline",
        }
        scope = self.pending[code]["scope"]
        return f"state={query['state']}&code={code}&scope={scope.replace(' ', '+')}"

    @staticmethod
    def _full(scope: str) -> list[str]:
        names = {"email": SIGN_IN[1], "profile": SIGN_IN[2]}
        return [names.get(s, s) for s in scope.split()]

    def issue(self, scope: str) -> tuple[str, str]:
        """A refresh token and an access token Google would have handed out."""
        refresh, access = "1//0g" + secrets.token_urlsafe(40), "ya29.a0" + secrets.token_urlsafe(40)
        self.refresh_tokens[refresh] = scope
        self.access_tokens[access] = scope
        return refresh, access

    def _token(self, request):
        form = _form(request)
        self.token_requests.append(form)
        self.calls["token"] += 1
        if self.failures["token"]:
            return _error(*self.failures["token"].pop(0))
        if form.get("grant_type") == "refresh_token":
            scope = self.refresh_tokens.get(form.get("refresh_token"))
            if scope is None:
                return self._invalid_grant("Token has been expired or revoked.")
            access = "ya29.a0" + secrets.token_urlsafe(40)
            self.access_tokens[access] = scope
            return _ok(
                {"access_token": access, "expires_in": 3599, "scope": scope, "token_type": "Bearer"}
            )
        grant = self.pending.pop(form.get("code"), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return self._invalid_grant("Bad Request")
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return self._invalid_grant("Invalid code verifier.")
        refresh, access = self.issue(grant["scope"])
        self.userinfo = {"email": grant["email"], "verified": grant["verified"]}
        body = {
            "access_token": access,
            "expires_in": 3599,
            "scope": grant["scope"],
            "token_type": "Bearer",
            "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        }
        if grant["offline"]:  # Google hands out a refresh token for offline access only
            return _ok(body | {"refresh_token": refresh})
        del self.refresh_tokens[refresh]
        return _ok(body)

    @staticmethod
    def _invalid_grant(description: str):
        body = {"error": "invalid_grant", "error_description": description}
        return 400, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body)

    def _authorized(self, request) -> str | None:
        header = request.headers.get("Authorization") or request.headers.get("authorization") or ""
        return self.access_tokens.get(header.removeprefix("Bearer "))

    def _userinfo(self, request):
        if not self._authorized(request):
            return _error(*UNAUTHENTICATED)
        email = self.userinfo["email"]
        return _ok(
            {
                "sub": "110169484474386276334",
                "name": "Ana Ruiz",
                "given_name": "Ana",
                "family_name": "Ruiz",
                "picture": "https://lh3.googleusercontent.com/a/default-user=s96-c",
                "email": email,
                "email_verified": self.userinfo["verified"],
                "hd": email.rpartition("@")[2],
            }
        )

    def _revoke(self, request):
        token = _form(request).get("token")
        if self.refresh_tokens.pop(token, None) is None:
            body = {"error": "invalid_token", "error_description": "Token expired or revoked"}
            return 400, {"Content-Type": "application/json"}, json.dumps(body)
        self.revoked.append(token)
        return 200, {"Content-Type": "application/json"}, "{}"

    def revoke_all(self) -> None:
        """The person removed the app at myaccount.google.com: every token stops working."""
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Access tokens stop working before their stated expiry (Google may do that)."""
        self.access_tokens.clear()

    # --- Gmail -------------------------------------------------------------------------------

    def fail(self, endpoint: str, error: tuple, times: int = 1) -> None:
        """Answer the next `times` calls of `endpoint` with `error` (code, message, reason...)."""
        self.failures[endpoint] += [error] * times

    def lose_answer(self, endpoint: str, error: Exception) -> None:
        """Carry out the next call of `endpoint`, then raise `error` instead of answering: the
        answer was lost on its way back (a read timeout, a dropped connection)."""
        self.lost[endpoint].append(error)

    def add_message(
        self, headers: dict, thread_id: str | None = None, labels=("INBOX",), at_ms=None, html=None
    ) -> str:
        """Put a message in the mailbox and record it in its history; returns its id."""
        mid = f"{next(self._ids):x}"
        if html is not None:
            self.bodies[mid] = html
        names = headers
        self.messages[mid] = {
            "id": mid,
            "threadId": thread_id or mid,
            "labelIds": list(labels),
            "snippet": "",
            "historyId": str(self.history_id + 1),
            "internalDate": str(at_ms or self.epoch_ms + len(self.messages) * 60000),
            "payload": {
                "partId": "",
                "mimeType": "multipart/alternative",
                "filename": "",
                "headers": [{"name": k, "value": v} for k, v in names.items()],
            },
            "sizeEstimate": 4321,
        }
        self.history_id += 1
        self.history.append((self.history_id, mid))
        return mid

    def delete(self, mid: str) -> None:
        """The person deleted a message for good: its history record stays, the message not."""
        self.deleted[mid] = self.messages.pop(mid)

    def _gmail(self, request):
        scope = self._authorized(request)
        if not scope:
            return _error(*UNAUTHENTICATED)
        parts = urlsplit(request.url)
        return self.route(request.method, parts.path, parse_qs(parts.query), request.body, scope)

    def route(self, method: str, path: str, query: dict, body, scope: str) -> tuple[int, dict, str]:
        """Answer one Gmail API request (directly or inside a batch)."""
        path = path.removeprefix("/gmail/v1/users/me/")
        endpoint = {
            "profile": "getProfile",
            "history": "history.list",
            "messages": "messages.list",
            "messages/send": "messages.send",
            "watch": "watch",
            "stop": "stop",
        }.get(path) or ("threads.get" if path.startswith("threads/") else "messages.get")
        self.calls[endpoint] += 1
        if self.failures[endpoint]:
            return _error(*self.failures[endpoint].pop(0))
        if endpoint == "getProfile":
            return _ok(
                {
                    "emailAddress": self.email,
                    "messagesTotal": len(self.messages),
                    "threadsTotal": len({m["threadId"] for m in self.messages.values()}),
                    "historyId": str(self.history_id),
                }
            )
        if endpoint == "history.list":
            return self._history(query)
        if endpoint in ("watch", "stop"):
            return self._watch(json.loads(body)) if endpoint == "watch" else self._stop()
        if endpoint == "messages.list":
            return self._list(query, scope)
        if endpoint == "messages.send":
            answer = self._send(json.loads(body))
            if self.lost[endpoint]:
                raise self.lost[endpoint].pop(0)
            return answer
        if endpoint == "threads.get":
            return self._thread(path.removeprefix("threads/"), query)
        message = self.messages.get(path.removeprefix("messages/"))
        if message is None:
            return _error(*NOT_FOUND)
        if query.get("format") == ["full"]:
            # Real Gmail refuses FULL while gmail.metadata is granted, readonly or not.
            if READONLY not in scope.split() or METADATA in scope.split():
                return _error(*FULL_FORBIDDEN)
            return _ok(self._full_message(message))
        return _ok(self._metadata(message, query))

    def _watch(self, body: dict):
        """users.watch: Gmail publishes a test message to the topic first, so a topic it may not
        publish to is refused; a watch again replaces the last (labelIds are kept, not used)."""
        topic = body.get("topicName", "")
        if topic not in self.topics:
            return _error(*pubsub_forbidden(topic))
        expiration = int(time.time() * 1000) + WATCH_DAYS * 86400 * 1000
        self.watching = {"topic": topic, "labelIds": body.get("labelIds"), "expiration": expiration}
        return _ok({"historyId": str(self.history_id), "expiration": str(expiration)})

    def _stop(self):
        self.watching = None
        return 204, {"Content-Type": "application/json; charset=UTF-8"}, ""

    def _list(self, query: dict, scope: str):
        """messages.list: newest first, by label, without SPAM and TRASH unless asked, in pages
        of maxResults (default 100); ids and thread ids only."""
        if query.get("q"):
            if METADATA in scope.split():  # as Google documents it for the metadata scope
                return _error(*Q_FORBIDDEN)
            wanted = query["q"][0].removeprefix("rfc822msgid:").strip("<>")
        labels = set(query.get("labelIds", []))
        hidden = set() if query.get("includeSpamTrash") == ["true"] else {"SPAM", "TRASH"}
        found = [
            m
            for m in reversed(self.messages.values())
            if labels <= set(m["labelIds"]) and not hidden & set(m["labelIds"])
            and (not query.get("q") or self._header(m, "Message-ID").strip("<>") == wanted)
        ]  # fmt: skip
        size = int(query.get("maxResults", ["100"])[0])
        offset = int(query.get("pageToken", ["0"])[0])
        page = [{"id": m["id"], "threadId": m["threadId"]} for m in found[offset : offset + size]]
        body = {"resultSizeEstimate": len(found)} | ({"messages": page} if page else {})
        if offset + size < len(found):
            body["nextPageToken"] = str(offset + size)
        return _ok(body)

    @staticmethod
    def _header(message: dict, name: str) -> str:
        headers = message["payload"]["headers"]
        return next((h["value"] for h in headers if h["name"].lower() == name.lower()), "")

    def trash(self, mid: str) -> None:
        """The person moved a message to the trash (it keeps its other labels, as in Gmail)."""
        self.messages[mid]["labelIds"].append("TRASH")

    def _full_message(self, message: dict) -> dict:
        html = self.bodies.get(message["id"], "<p></p>")
        parts = [
            {
                "partId": str(i),
                "mimeType": kind,
                "filename": "",
                "headers": [],
                "body": {
                    "size": len(text),
                    "data": base64.urlsafe_b64encode(text.encode()).decode(),
                },
            }
            for i, (kind, text) in enumerate([("text/plain", "text"), ("text/html", html)])
        ]
        return message | {"payload": message["payload"] | {"parts": parts}}

    def _metadata(self, message: dict, query: dict) -> dict:
        wanted = {h.lower() for h in query.get("metadataHeaders", [])}
        headers = [h for h in message["payload"]["headers"] if h["name"].lower() in wanted]
        return message | {"payload": message["payload"] | {"headers": headers}}

    def _history(self, query: dict):
        start = int(query["startHistoryId"][0])
        if start < self.oldest_history:
            return _error(*NOT_FOUND)
        records = [(hid, mid) for hid, mid in self.history if hid > start]
        offset = int(query.get("pageToken", ["0"])[0])
        page = records[offset : offset + self.page_size]
        body: dict = {"historyId": str(self.history_id)}
        known = self.messages | self.deleted
        if page:
            body["history"] = [
                {
                    "id": str(hid),
                    "messages": [{"id": mid, "threadId": known[mid]["threadId"]}],
                    "messagesAdded": [
                        {
                            "message": {
                                "id": mid,
                                "threadId": known[mid]["threadId"],
                                "labelIds": known[mid]["labelIds"],
                            }
                        }
                    ],
                }
                for hid, mid in page
            ]
        if offset + self.page_size < len(records):
            body["nextPageToken"] = str(offset + self.page_size)
        return _ok(body)

    def _thread(self, thread_id: str, query: dict):
        self.threads_read.append(thread_id)
        members = [m for m in self.messages.values() if m["threadId"] == thread_id]
        if not members:
            return _error(*NOT_FOUND)
        return _ok(
            {
                "id": thread_id,
                "historyId": str(self.history_id),
                "messages": [self._metadata(m, query) for m in members],
            }
        )

    def _send(self, body: dict):
        raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
        mime = BytesParser().parsebytes(raw)  # as sent: 8-bit bytes would reach it as such
        headers = dict(mime.items())  # every header, threading ones included
        mid = self.add_message(headers, body.get("threadId"), labels=("SENT",))
        self.sent.append({"raw": raw, "mime": mime, "threadId": body.get("threadId"), "id": mid})
        thread = self.messages[mid]["threadId"]
        return _ok({"id": mid, "threadId": thread, "labelIds": ["SENT"]})

    def _batch(self, request):
        # A refused token does not fail the batch itself: Google answers 200 and a 401 in
        # each of its parts.
        scope = self._authorized(request)
        self.calls["batch"] += 1
        content_type = request.headers["content-type"]
        body = request.body if isinstance(request.body, str) else request.body.decode()
        envelope = Parser().parsestr(f"Content-Type: {content_type}\r\n\r\n{body}")
        boundary = "batch_" + secrets.token_hex(8)
        out = []
        for part in envelope.get_payload():
            line, _, rest = part.get_payload().partition("\n")
            method, target, _ = line.split(" ", 2)
            target = urlsplit(target)
            status, headers, content = (
                self.route(
                    method,
                    target.path,
                    parse_qs(target.query),
                    rest.partition("\n\n")[2] or None,
                    scope,
                )
                if scope
                else _error(*UNAUTHENTICATED)
            )
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-{part['Content-ID'][1:-1]}>\r\n\r\n"
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                f"Content-Type: {headers['Content-Type']}\r\n\r\n{content}\r\n"
            )
        payload = "".join(out) + f"--{boundary}--\r\n"
        return 200, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, payload


def connect_mailbox(app, user, google, scopes, name: str = "Ana Ruiz"):
    """A mailbox as a finished connect round trip leaves it, granted `scopes`."""
    from datetime import UTC, datetime, timedelta

    from server.extensions import db
    from server.gmail import auth as gmail_auth

    refresh, access = google.issue(" ".join(scopes))
    now = datetime.now(UTC)
    grant = gmail_auth.Grant(
        purpose="connect",
        user_id=user.id,
        requested=set(scopes),
        granted=set(scopes),
        refresh_token=refresh,
        access_token=access,
        expires_at=now + timedelta(hours=1),
        email=user.email,
        email_verified=True,
        sub="110169484474386276334",
        name=name,
    )
    client = gmail_auth.GoogleClient.from_settings(app.config["LEADCAMP"])
    box = gmail_auth.save_mailbox(db.session, client, user, grant, now)
    db.session.commit()
    return box


def run_sync(app, box, sleep=lambda _: None):
    """Run one sync of `box` as the job does; the test's session then sees the results."""
    from server.extensions import db
    from server.gmail.jobs import sync_now

    db.session.commit()
    result = sync_now(app, box.id, sleep=sleep)
    db.session.expire_all()
    return result


# --- Signing in and connecting through the test client ---------------------------------------


def start(client, path="/auth/google/login"):
    """Follow our redirect to Google; returns the authorization URL."""
    response = client.get(path)
    assert response.status_code == 302, response.data
    return response.headers["Location"]


def callback(client, query: str):
    """Come back from Google to our callback with `query` (from FakeGoogle.consent)."""
    return client.get(f"/auth/google/callback?{query}")


# --- A rep's connected mailbox with one reported message --------------------------------------

RFC_ID = "<CAF=q2X0c1ZPq0nqz7lU@mail.gmail.com>"
SENT_HEADERS = {
    "From": "Ana Ruiz <rep@acme.test>",
    "To": "Jane Doe <jane@example.com>",
    "Cc": "bob@gone.test",
    "Subject": "Quick question",
    "Message-ID": RFC_ID,
}


@pytest.fixture
def google():
    """Google's HTTP APIs, faked; any other outgoing request through `requests` fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeGoogle(rsps)


@pytest.fixture
def mailbox(app, rep, google):
    """The rep's connected mailbox (as a finished connect round trip leaves it)."""
    return connect_mailbox(app, rep[0], google, [*SIGN_IN, METADATA])


@pytest.fixture
def reported(client, rep, google):
    """A sent message in Gmail, reported by the extension with its thread id only."""
    from datetime import UTC, datetime, timedelta

    from tests.support import auth

    thread = google.add_message(SENT_HEADERS, labels=("SENT",))
    body = {
        "subject": "Quick question",
        "recipients": [{"email": "jane@example.com"}],
        "gmail_thread_id": thread,
        "sent_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }
    created = client.post("/api/v1/messages", json=body, headers=auth(rep[1]))
    assert created.status_code == 201
    return created.json["id"], thread
