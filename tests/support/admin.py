"""Helpers for the settings-page tests: sign-in through the magic link, CSRF tokens and form
posts, messages with events, and a scan of every table for an address."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, String, Text, inspect, text

from server.accounts import users as accounts
from server.common import signing
from server.extensions import db
from server.models import Event, Message, Recipient, User

SUBJECT = "ana.ruiz@acme-customer.test"


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post_form(client, path: str, page: str, **data):
    """POST `data` to `path` with the CSRF token of the form on `page`, as a browser would."""
    return client.post(path, data={"csrf_token": csrf_from(client.get(page).text), **data})


def sign_in(client, secret_key: str, user: User):
    """Sign `user` in through the magic link, as a person would."""
    token = accounts.magic_link_token(secret_key, user)
    page = client.get(f"/auth/magic/{token}")
    response = client.post(f"/auth/magic/{token}", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302, response.text
    return client


def add_message(
    user: User, recipient: str, events: int = 2, mid: str | None = None, name: str = "Ana Ruiz"
) -> Message:
    """A message from `user` to `recipient` with some recorded opens."""
    key = accounts.current_signing_key(db.session, user)
    message = Message(
        id=mid or signing.new_message_id(),
        account_id=user.account_id,
        user_id=user.id,
        kid=key.kid,
        subject=f"Hello {recipient}",
        sent_at=datetime.now(UTC) - timedelta(days=1),
        recipients=[Recipient(email=recipient, name=name)],
    )
    db.session.add(message)
    for i in range(events):
        db.session.add(
            Event(
                id=f"{message.id[:24]}{i:08d}",
                account_id=user.account_id,
                message_id=message.id,
                kid=key.kid,
                kind="open" if i % 2 == 0 else "click",
                occurred_at=datetime.now(UTC) - timedelta(hours=i + 1),
                verdict="human",
                link_url=None if i % 2 == 0 else f"https://shop.test/?who={recipient}",
                ip_prefix="203.0.113.0",
                region="Catalonia",
                city="Barcelona",
            )
        )
    db.session.commit()
    return message


def tables_mentioning(needle: str) -> list[str]:
    """Every table.column whose text contains `needle`, found by scanning the live schema."""
    hits = []
    with db.engine.connect() as conn:
        inspector = inspect(conn)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], String | Text | JSON):
                    continue
                name = column["name"]
                value = f'lower(CAST("{name}" AS TEXT))'
                query = text(f'SELECT count(*) FROM "{table}" WHERE {value} LIKE :n')
                if conn.execute(query, {"n": f"%{needle.lower()}%"}).scalar():
                    hits.append(f"{table}.{name}")
    return hits
