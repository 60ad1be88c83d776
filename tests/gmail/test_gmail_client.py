"""The Gmail client's transport: requests underneath, retries with backoff, quota tally."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from server.gmail.client import NUM_RETRIES, GmailApiError, GmailClient, RequestsHttp
from tests.support.google import GMAIL, RATE_LIMITED, _error

PROFILE = {
    "emailAddress": "rep@acme.test",
    "messagesTotal": 12,
    "threadsTotal": 9,
    "historyId": "5123",
}


@pytest.fixture
def gmail():
    """A client without auth over a plain session; sleeps are recorded."""
    sleeps: list[float] = []
    client = GmailClient(RequestsHttp(requests.Session()), sleep=sleeps.append)
    client.sleeps = sleeps
    return client


@responses.activate
def test_transport_errors_are_retried_with_backoff(gmail):
    url = f"{GMAIL}/profile"
    responses.get(url, body=requests.ConnectionError("connection reset"))
    responses.get(url, json=PROFILE)
    assert gmail.profile() == PROFILE
    assert len(gmail.sleeps) == 1 and gmail.quota_units == 1


@responses.activate
def test_a_persistent_server_error_gives_up_after_the_retries(gmail, monkeypatch):
    # The client library draws each pause as random() * 2**attempt: fix the draw to see it grow.
    monkeypatch.setattr("random.random", lambda: 0.75)
    status, headers, body = _error(500, "Backend Error", "backendError", "INTERNAL")
    responses.get(f"{GMAIL}/profile", status=status, body=body, headers=headers)
    with pytest.raises(GmailApiError) as failure:
        gmail.profile()
    assert failure.value.status == 500 and "backendError" in str(failure.value)
    assert len(gmail.sleeps) == NUM_RETRIES
    # Backoff grows: the n-th pause (from 0) is 0.75 * 2**(n+1) seconds.
    assert gmail.sleeps == [0.75 * 2 ** (n + 1) for n in range(NUM_RETRIES)]


@responses.activate
def test_a_permission_error_that_is_no_rate_limit_is_not_retried(gmail):
    status, headers, body = _error(
        403, "Insufficient Permission", "insufficientPermissions", "PERMISSION_DENIED"
    )
    responses.get(f"{GMAIL}/profile", status=status, body=body, headers=headers)
    with pytest.raises(GmailApiError):
        gmail.profile()
    assert gmail.sleeps == []


@responses.activate
def test_the_request_goes_out_as_google_expects(gmail):
    responses.get(f"{GMAIL}/history", json={"historyId": "5200"})
    records, latest = gmail.history("5100")
    assert (records, latest) == ([], "5200")
    sent = responses.calls[0].request
    assert "startHistoryId=5100" in sent.url and "historyTypes=messageAdded" in sent.url
    status, headers, body = _error(*RATE_LIMITED)
    responses.post(f"{GMAIL}/messages/send", status=status, body=body, headers=headers)
    responses.post(
        f"{GMAIL}/messages/send", json={"id": "1", "threadId": "1", "labelIds": ["SENT"]}
    )
    assert gmail.send("cmF3", "18c0")["id"] == "1"
    assert json.loads(responses.calls[-1].request.body) == {"raw": "cmF3", "threadId": "18c0"}
    assert gmail.quota_units == 2 + 100  # the tally is per call; refused attempts are not
