"""The Gmail client's transport: requests underneath, retries with backoff (never for a send),
quota tally."""

from __future__ import annotations

import json
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from server.gmail.client import NUM_RETRIES, GmailApiError, GmailClient, RequestsHttp
from tests.support.google import GMAIL, RATE_LIMITED, _error

BACKEND_ERROR = (503, "The service is currently unavailable.", "backendError", "UNAVAILABLE")

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
def test_calls_go_to_the_configured_api_root():
    responses.get("http://gmail-proxy.internal:8080/gmail/v1/users/me/profile", json=PROFILE)
    client = GmailClient(
        RequestsHttp(requests.Session()), api_url="http://gmail-proxy.internal:8080"
    )
    assert client.profile() == PROFILE
    responses.post("http://gmail-proxy.internal:8080/batch", status=400, json={})
    with pytest.raises(GmailApiError):
        client.get_messages(["a1", "b2"], ["Subject"])
    urls = [call.request.url for call in responses.calls]
    assert urls[1:] == ["http://gmail-proxy.internal:8080/batch"]  # batches too, never Google


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
    responses.post(
        f"{GMAIL}/messages/send", json={"id": "1", "threadId": "1", "labelIds": ["SENT"]}
    )
    assert gmail.send("cmF3", "18c0")["id"] == "1"
    assert json.loads(responses.calls[-1].request.body) == {"raw": "cmF3", "threadId": "18c0"}
    assert gmail.quota_units == 2 + 100


SEND_URL = f"{GMAIL}/messages/send"
SENT = {"id": "1", "threadId": "1", "labelIds": ["SENT"]}


@responses.activate
def test_a_send_is_tried_once_and_says_whether_it_may_have_gone_out(gmail):
    # Refused (rate limit): nothing went out. Failed on Google's side: it may have.
    for error, maybe_sent in ((RATE_LIMITED, False), (BACKEND_ERROR, True)):
        status, headers, body = _error(*error)
        responses.post(SEND_URL, status=status, body=body, headers=headers)
        responses.post(SEND_URL, json=SENT)  # what a retry would get: it must never be asked
        with pytest.raises(GmailApiError) as failure:
            gmail.send("cmF3", None)
        assert (failure.value.status, failure.value.maybe_sent) == (error[0], maybe_sent)
        assert len(responses.calls) == 1 and gmail.sleeps == []
        responses.reset()
        responses.calls.reset()


@pytest.mark.parametrize(
    ("failure", "maybe_sent"),
    [
        (requests.ReadTimeout("Read timed out. (read timeout=30)"), True),
        (
            requests.ConnectionError(
                ProtocolError(
                    "Connection aborted.",
                    RemoteDisconnected("Remote end closed connection without response"),
                )
            ),
            True,
        ),
        (requests.ConnectTimeout("Connection to gmail.googleapis.com timed out"), False),
        (
            requests.ConnectionError(
                MaxRetryError(
                    None, SEND_URL, NewConnectionError(None, "Failed to establish a connection")
                )
            ),
            False,
        ),
    ],
    ids=["read-timeout", "connection-dropped", "connect-timeout", "connection-refused"],
)
@responses.activate
def test_a_send_without_an_answer_is_never_retried(gmail, failure, maybe_sent):
    responses.post(SEND_URL, body=failure)
    responses.post(SEND_URL, json=SENT)
    with pytest.raises(GmailApiError) as raised:
        gmail.send("cmF3", None)
    assert raised.value.status == 0 and raised.value.maybe_sent is maybe_sent
    assert len(responses.calls) == 1 and gmail.sleeps == []
