"""Follow-up reminders on the rep's own messages: set (or set again) and cancel."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g

from server.api import bp, schemas
from server.api.errors import ApiError
from server.api.openapi import operation
from server.extensions import db
from server.messages import follow_ups


@operation(
    bp,
    "/messages/<mid>/follow-up",
    "PUT",
    "Remind me if no reply comes to my message within `days` days (set again: from now)",
    schemas.FollowUpAnswerOut,
    body=schemas.FollowUpIn,
)
def set_follow_up(mid: str, body: schemas.FollowUpIn):
    """Set the reminder on one of the rep's own messages."""
    try:
        follow_up = follow_ups.set_follow_up(db.session, g.user, mid, body.days, datetime.now(UTC))
    except follow_ups.FollowUpError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc
    db.session.commit()
    return {"follow_up": follow_ups.view(follow_up)}


@operation(
    bp,
    "/messages/<mid>/follow-up",
    "DELETE",
    "Cancel my reminder on this message",
    schemas.FollowUpAnswerOut,
)
def cancel_follow_up(mid: str):
    """Cancel the reminder on one of the rep's own messages (none set: nothing changes)."""
    try:
        follow_up = follow_ups.cancel(db.session, g.user, mid, datetime.now(UTC))
    except follow_ups.FollowUpError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc
    db.session.commit()
    return {"follow_up": follow_ups.view(follow_up)}
