"""Input that looks valid but is not (JSON nested a thousand deep, Unicode digits in the query
string) gets a 400 with a JSON reason on every endpoint, and no traceback in the log."""

from __future__ import annotations

import logging
import re

import pytest

from server.api.openapi import OPERATIONS
from server.common.inputs import MAX_JSON_DEPTH
from server.contacts import service as contacts
from server.extensions import db
from tests.support import auth

# Every endpoint that reads a JSON body, path parameters filled with a placeholder (the body is
# refused before the view looks anything up; a number where the route takes one).
JSON_ENDPOINTS = sorted(
    (op.method.upper(), re.sub(r"<(?:\w+:)?\w+>", "x", re.sub(r"<int:\w+>", "1", op.path)))
    for op in OPERATIONS
    if op.body is not None and op.consumes is None
)
DEEP = b'{"a":' * 1100 + b"1" + b"}" * 1100  # 2.2 KB: once enough to exhaust the parser's stack


def assert_reason(response, code: str):
    assert response.status_code == 400, response.data
    assert response.is_json and response.json["error"] == code
    assert response.json["message"]


def assert_no_traceback(caplog):
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not noisy, [r.getMessage() for r in noisy]


def test_the_endpoints_are_found():
    assert ("POST", "/api/v1/extension/token") in JSON_ENDPOINTS
    assert ("PATCH", "/api/v1/contacts/x") in JSON_ENDPOINTS


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [DEEP, b"[" * 1100 + b"]" * 1100, b"[" * 30_000])
def test_deeply_nested_json_is_a_400(client, rep, caplog, method, path, body):
    headers = auth(rep[1]) | {"Content-Type": "application/json"}
    response = client.open(path, method=method, data=body, headers=headers)
    assert_reason(response, "json_too_deep")
    assert_no_traceback(caplog)


def test_the_unauthenticated_token_exchange_refuses_it_too(client, caplog):
    response = client.post(
        "/api/v1/extension/token", data=DEEP, headers={"Content-Type": "application/json"}
    )
    assert_reason(response, "json_too_deep")
    assert str(MAX_JSON_DEPTH) in response.json["message"]
    assert_no_traceback(caplog)


def test_nesting_within_the_limit_still_reaches_validation(client, rep):
    body = {"subject": "Hi", "recipients": [{"email": "a@b.c", "name": [[[["deep"]]]]}]}
    response = client.post("/api/v1/messages", json=body, headers=auth(rep[1]))
    assert_reason(response, "invalid_request")


QUERY_NUMBERS = [
    "/api/v1/contacts?limit={}",
    "/api/v1/contacts?offset={}",
    "/api/v1/activity?limit={}",
]


@pytest.mark.parametrize("url", QUERY_NUMBERS)
@pytest.mark.parametrize("value", ["²", "①", "٣", "\uff11", "9" * 5000, "-1", "1.5", "0x10"])
def test_query_numbers_take_ascii_digits_only(client, rep, caplog, url, value):
    response = client.get(url.format(value), headers=auth(rep[1]))
    assert_reason(response, "invalid_request")
    assert_no_traceback(caplog)


@pytest.mark.parametrize("url", QUERY_NUMBERS)
def test_plain_numbers_still_work(client, rep, url):
    assert client.get(url.format("5"), headers=auth(rep[1])).status_code == 200


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_a_nul_character_in_a_json_string_is_a_400(client, rep, method, path):
    body = {"subject": "a\x00b", "nested": [{"\x00": 1}]}
    response = client.open(path, method=method, json=body, headers=auth(rep[1]))
    assert_reason(response, "invalid_json")
    assert "NUL" in response.json["message"]


def test_a_contact_note_with_a_nul_is_refused_before_the_database(client, rep):
    contacts.upsert_contact(db.session, rep[0].account_id, "ana@acme-customer.test", "Ana")
    db.session.commit()
    path = "/api/v1/contacts/ana@acme-customer.test"
    response = client.patch(path, json={"notes": "a\x00b"}, headers=auth(rep[1]))
    assert_reason(response, "invalid_json")
    assert client.patch(path, json={"notes": "ab"}, headers=auth(rep[1])).status_code == 200


@pytest.mark.parametrize(
    "url", ["/api/v1/contacts?q=a%00b", "/api/v1/contacts?%00=1", "/api/v1/activity?after=%00"]
)
def test_a_nul_in_the_query_string_is_a_400(client, rep, caplog, url):
    assert_reason(client.get(url, headers=auth(rep[1])), "invalid_request")
    assert_no_traceback(caplog)
