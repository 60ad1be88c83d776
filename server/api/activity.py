"""The notifications feed the extension's service worker polls."""

from __future__ import annotations

import re

from flask import g, request
from pydantic import BaseModel, Field

from server.api import bp
from server.api.args import int_arg
from server.api.errors import ApiError
from server.api.openapi import operation
from server.api.schemas import DeviceOut, GmailOut, RecipientOut
from server.api.views import gmail_view
from server.extensions import db
from server.messages import activity

_CURSOR = re.compile(r"[0-9a-f]{1,20}[A-Za-z0-9_-]{0,24}")


class ActivityEventOut(BaseModel):
    id: str
    message_id: str
    subject: str
    at: str | None
    kind: str = Field(description="open, click, reply or follow_up_due (a reminder with no reply)")
    verdict: str | None = Field(description="human or proxy; null for follow_up_due")
    device: DeviceOut
    location: dict | None
    link: str | None
    days: int | None = Field(default=None, description="follow_up_due: the reminder's days")


class ActivityOut(BaseModel):
    events: list[ActivityEventOut]
    cursor: str
    gmail: GmailOut = Field(
        description="The rep's Gmail connection and health, as GET /me has it: the extension's "
        "polls keep its Reconnect Gmail banner current without asking /me"
    )


@operation(
    bp,
    "/activity",
    "GET",
    "New opens, clicks and replies of your mail, and follow-ups come due, after a cursor",
    ActivityOut,
    query=(
        ("after", "the `cursor` of the last answer; omit it to get one", {"type": "string"}),
        (
            "limit",
            f"at most this many, 1 to {activity.MAX_LIMIT} (default 100)",
            {"type": "integer"},
        ),
    ),
)
def activity_feed():
    """Real engagement on the rep's own messages, and their reminders come due without a reply,
    since `after` (omit it to get a cursor)."""
    after = request.args.get("after")
    if after is not None and not _CURSOR.fullmatch(after):
        raise ApiError(400, "invalid_request", "`after` must be a cursor this API handed out.")
    limit = int_arg("limit", 100, 1, activity.MAX_LIMIT)
    return activity.feed(db.session, g.user, after, limit) | {"gmail": gmail_view(g.user)}


class HistoryEventOut(ActivityEventOut):
    kind: str = Field(description="open, click, reply or bounce")
    verdict: str | None = Field(description="human or proxy; machine for a bounce")
    reasons: list[str] = Field(description="the classifier's reason codes")
    recipients: list[RecipientOut]


class HistoryOut(BaseModel):
    events: list[HistoryEventOut] = Field(description="newest first")
    next: str | None = Field(description="the next (older) page's `before`; null on the last")


_HISTORY_QUERY = (
    ("before", "a `next` cursor this API handed out; omit for the newest page", {"type": "string"}),
    ("limit", "page size, 1 to 200 (default 50)", {"type": "integer"}),
)


@operation(
    bp,
    "/activity/history",
    "GET",
    "Past opens, clicks, replies and bounces of your mail (an admin: the account's), newest first",
    HistoryOut,
    query=_HISTORY_QUERY,
)
def activity_history():
    """A page of the activity history before the cursor `before`, newest first."""
    before = request.args.get("before")
    if before is not None and not _CURSOR.fullmatch(before):
        raise ApiError(400, "invalid_request", "`before` must be a cursor this API handed out.")
    limit = int_arg("limit", 50, 1, activity.MAX_LIMIT)
    return activity.history(db.session, g.user, before, limit)
