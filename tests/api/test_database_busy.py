"""A database that stays locked (SQLite has one writer) is a 503 to retry, never a 500."""

from __future__ import annotations

import sqlite3

import pytest

from tests.support import auth

MESSAGE = {"subject": "Hi", "recipients": [{"email": "lead@example.com"}]}


# Only SQLite has one writer for the whole database.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_that_waits_too_long_for_the_lock_is_a_503_to_retry(client, rep, settings):
    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")  # another writer (an import, the event writer) holds it
    try:
        response = client.post("/api/v1/messages", json=MESSAGE, headers=auth(rep[1]))
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503, response.data
    assert response.json["error"] == "database_busy"
    assert response.headers["Retry-After"] == "1"
    answer = client.post("/api/v1/messages", json=MESSAGE, headers=auth(rep[1]))
    assert answer.status_code == 201, answer.data
