"""The Gmail API client: google-api-python-client built offline, its transport on `requests`.

The client is built from the discovery document shipped inside the library (no network fetch at
start) and talks HTTP through `RequestsHttp`, an httplib2-shaped adapter over a requests.Session,
so every call goes through one path tests can fake with `responses`. The library itself retries
429, 5xx and rate-limit 403 answers with exponential backoff (`num_retries`); a 401 refreshes the
access token once and repeats the call (a batch too, whose refusal comes as a 401 in each part).
Sending is the exception: `send` is tried once, never retried, and a failure says whether the
message may have gone out (`GmailApiError.maybe_sent`), so a copy is never sent twice.
Quota units are counted per client for logging: each call or batch part once, however many
attempts it took.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import googleapiclient
import httplib2
import requests
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest
from urllib3.exceptions import NewConnectionError

log = logging.getLogger(__name__)

BATCH_SIZE = 50  # Google's advice for Gmail batches: larger ones get rate-limited
NUM_RETRIES = 5
TIMEOUT = 30
# Quota units per method (developers.google.com/gmail/api/reference/quota).
COSTS = {
    "history.list": 2,
    "messages.get": 5,
    "messages.list": 5,
    "messages.send": 100,
    "threads.get": 10,
    "getProfile": 1,
    "watch": 100,
    "stop": 50,
}
# Not 401: RequestsHttp refreshes the token and resends the whole batch on a 401 in any part.
RETRYABLE = {429, 500, 502, 503, 504}
_PART_401 = re.compile(rb"^HTTP/1\.[01] 401\b", re.MULTILINE)


class GmailApiError(Exception):
    """A Gmail API call failed after its retries; `status` is Google's HTTP status (0: no
    answer). `maybe_sent`: the request may have been carried out (no answer came after it went
    out, or Google failed on its side), as opposed to refused or never delivered."""

    def __init__(self, status: int, message: str, maybe_sent: bool = False):
        super().__init__(message)
        self.status, self.maybe_sent = status, maybe_sent


class TransportError(ConnectionError):
    """No answer came; `maybe_sent` unless the connection was never made (nothing went out).

    A ConnectionError, so googleapiclient retries it like a 5xx where retries are allowed."""

    def __init__(self, message: str, maybe_sent: bool):
        super().__init__(message)
        self.maybe_sent = maybe_sent


class RequestsHttp:
    """Enough of httplib2.Http for googleapiclient, over requests (so `responses` sees it).

    `auth` puts a fresh access token on each request (`apply(headers)`) and renews it after a
    401 (`refresh()`); the request is then sent once more.
    """

    def __init__(self, session: requests.Session, auth=None, timeout: float = TIMEOUT):
        self.session, self.auth, self.timeout = session, auth, timeout

    def request(
        self, uri, method="GET", body=None, headers=None, redirections=5, connection_type=None
    ):
        """Send one request; answer (httplib2.Response, bytes) as httplib2 does."""
        response = self._send(uri, method, body, headers)
        if self.auth is not None and _unauthorized(response):
            self.auth.refresh()
            response = self._send(uri, method, body, headers)
        info = {k.lower(): v for k, v in response.headers.items()}
        info["status"] = str(response.status_code)
        resp = httplib2.Response(info)
        resp.reason = response.reason
        return resp, response.content

    def _send(self, uri, method, body, headers) -> requests.Response:
        headers = dict(headers or {})
        if self.auth is not None:
            self.auth.apply(headers)
        try:
            return self.session.request(
                method, uri, data=body, headers=headers, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransportError(str(exc), maybe_sent=not _never_sent(exc)) from exc


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request failed before reaching Google: the connection was never made.

    A read timeout or a connection dropped after the request was written may have left it done.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)  # refused, unreachable, name not resolved


def _unauthorized(response: requests.Response) -> bool:
    """Whether Google refused the access token: a 401, or a batch with a 401 in any part.

    A batch sent with a stale token is answered 200 with each part a 401; it is sent again
    whole once the token is refreshed (the library alone would resend it with the same token).
    """
    if response.status_code == 401:
        return True
    kind = response.headers.get("Content-Type", "")
    return kind.startswith("multipart/mixed") and bool(_PART_401.search(response.content))


@lru_cache(maxsize=1)
def discovery_document() -> str:
    """Gmail v1's discovery document as shipped inside google-api-python-client."""
    base = Path(googleapiclient.__file__).parent
    return (base / "discovery_cache" / "documents" / "gmail.v1.json").read_text()


def _request_builder(sleep: Callable[[float], None]):
    class Request(HttpRequest):
        """An HttpRequest whose retry backoff sleeps through `sleep`."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._sleep = sleep

    return Request


class GmailClient:
    """The calls sync and sending make, with retries, batching and a quota tally."""

    def __init__(
        self, http: RequestsHttp, sleep: Callable[[float], None] = time.sleep, api_url: str = ""
    ):
        self.service = build_from_document(
            json.loads(discovery_document()),
            http=http,
            requestBuilder=_request_builder(sleep),
            client_options={"api_endpoint": api_url + "/"} if api_url else None,
        )
        self.units: Counter[str] = Counter()
        self.sleep = sleep
        # The library builds batch requests on the discovery document's root, not the endpoint.
        self.batch_uri = f"{api_url}/batch" if api_url else None

    @property
    def quota_units(self) -> int:
        """Quota units spent by this client so far."""
        return sum(COSTS[name] * n for name, n in self.units.items())

    def _run(self, name: str, request, counted: bool = False):
        if not counted:
            self.units[name] += 1
        return _execute(request, num_retries=NUM_RETRIES)

    def profile(self) -> dict:
        """users.getProfile: the address and the current history id."""
        return self._run("getProfile", self.service.users().getProfile(userId="me"))

    def history(self, start_history_id: str) -> tuple[list[dict], str]:
        """Every messageAdded record since `start_history_id`, and the newest history id."""
        records: list[dict] = []
        token, latest = None, start_history_id
        while True:
            page = self._run(
                "history.list",
                self.service.users()
                .history()
                .list(
                    userId="me",
                    startHistoryId=start_history_id,
                    historyTypes="messageAdded",
                    pageToken=token,
                ),
            )
            records += page.get("history", [])
            latest = page.get("historyId", latest)
            token = page.get("nextPageToken")
            if not token:
                return records, latest

    def watch(self, topic: str) -> dict:
        """users.watch: push this mailbox's changes to the Pub/Sub `topic` for the next 7 days;
        answers {historyId, expiration (epoch ms)}. Calling it again renews the watch.

        No label filter: a reply a filter keeps out of the inbox must wake the sync too, and a
        change that brings nothing new costs that sync one history.list.
        """
        request = self.service.users().watch(userId="me", body={"topicName": topic})
        return self._run("watch", request)

    def stop(self) -> None:
        """users.stop: Gmail stops pushing this mailbox's changes."""
        self._run("stop", self.service.users().stop(userId="me"))

    def list_sent(self, max_results: int, include_spam_trash: bool = False) -> list[dict]:
        """The newest sent messages (ids and thread ids)."""
        request = (
            self.service.users()
            .messages()
            .list(
                userId="me",
                labelIds=["SENT"],
                maxResults=max_results,
                includeSpamTrash=include_spam_trash,
            )
        )
        return self._run("messages.list", request).get("messages", [])

    def get_messages(self, ids: Iterable[str], headers: list[str]) -> list[dict]:
        """messages.get (format=metadata) for many ids, in batches; deleted ones are skipped."""
        return self._get_many("messages", ids, format="metadata", metadataHeaders=headers)

    def get_full(self, ids: Iterable[str]) -> list[dict]:
        """messages.get (format=full: bodies; needs gmail.readonly) for many ids, in batches."""
        return self._get_many("messages", ids, format="full")

    def get_threads(self, ids: Iterable[str], headers: list[str]) -> list[dict]:
        """threads.get (format=metadata) for many ids, in batches; deleted ones are skipped."""
        return self._get_many("threads", ids, format="metadata", metadataHeaders=headers)

    def _get_many(self, resource: str, ids: Iterable[str], **params) -> list[dict]:
        """`resource`.get with `params` for each distinct id, in batches."""
        collection = getattr(self.service.users(), resource)()
        return self._fan_out(
            f"{resource}.get",
            list(dict.fromkeys(ids)),
            lambda item: collection.get(userId="me", id=item, **params),
        )

    def send(self, raw: str, thread_id: str | None) -> dict:
        """users.messages.send of a base64url RFC 5322 message, in a thread when given.

        Tried once: a 5xx, 429 or lost answer is not retried (a retry could send it twice); the
        GmailApiError says whether it may have been sent. A 401 is still answered by refreshing
        the token and sending once more: Google refused the first, so nothing went out.
        """
        body = {"raw": raw} | ({"threadId": thread_id} if thread_id else {})
        self.units["messages.send"] += 1
        return _execute(self.service.users().messages().send(userId="me", body=body))

    def _fan_out(self, name: str, ids: list[str], make) -> list[dict]:
        results: dict[str, dict] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            failed: dict[str, HttpError] = {}

            def collect(request_id, response, exception, failed=failed):
                """Keep each part's answer, or its error for a second try."""
                if exception is None:
                    results[request_id] = response
                else:
                    failed[request_id] = exception

            batch = self._batch(collect)
            for item in chunk:
                batch.add(make(item), request_id=item)
            self.units[name] += len(chunk)
            _execute(batch)
            self._retry_parts(name, failed, make, results)
        return [results[i] for i in ids if i in results]

    def _batch(self, callback) -> BatchHttpRequest:
        if self.batch_uri:
            return BatchHttpRequest(callback=callback, batch_uri=self.batch_uri)
        return self.service.new_batch_http_request(callback=callback)

    def _retry_parts(self, name: str, failed: dict, make, results: dict) -> None:
        """Parts of a batch that failed for a passing reason go again one by one, after a pause."""
        paused = False
        for item, exc in failed.items():
            status = exc.resp.status if isinstance(exc, HttpError) else 0
            if status == 404:
                continue  # deleted since the history record was written
            if status not in RETRYABLE and not (status == 403 and "ateLimit" in _reason(exc)):
                raise GmailApiError(status, _reason(exc))
            if not paused:
                self.sleep(1 + random.random())  # the batch as a whole was too fast
                paused = True
            results[item] = self._run(name, make(item), counted=True)  # with its batch


def _execute(request, **options):
    """Run a request or a batch; Google's refusals and transport failures as GmailApiError."""
    try:
        return request.execute(**options)
    except HttpError as exc:
        status = exc.resp.status
        raise GmailApiError(status, _reason(exc), maybe_sent=status >= 500) from exc
    except (httplib2.HttpLib2Error, OSError) as exc:
        # A failure RequestsHttp did not classify is taken as one after the request went out.
        maybe_sent = getattr(exc, "maybe_sent", True)
        raise GmailApiError(0, f"Gmail could not be reached: {exc}", maybe_sent=maybe_sent) from exc


def _reason(exc: HttpError) -> str:
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        details = error.get("errors") or [{}]
        return f"{error.get('message', '')} ({details[0].get('reason', error.get('status', ''))})"
    except (ValueError, KeyError, TypeError, AttributeError):
        return str(exc)


def for_mailbox(google, mailbox, sleep: Callable[[float], None] = time.sleep) -> GmailClient:
    """A client acting as `mailbox`, its tokens refreshed (and kept) as needed."""
    from server.gmail.auth import MailboxAuth

    session = requests.Session()
    auth = MailboxAuth(google, mailbox, session)
    return GmailClient(RequestsHttp(session, auth), sleep, google.api_url)
