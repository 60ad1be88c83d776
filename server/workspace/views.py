"""Tracked mail, a message's page, the activity page and the updates it polls: thin views over
messages.listing and messages.activity."""

from __future__ import annotations

import re

from flask import abort, jsonify, render_template, request
from flask_login import current_user, login_required

from server.common.inputs import whole_number
from server.extensions import db
from server.messages import activity
from server.messages import listing as mail
from server.models.base import utcnow
from server.predictions import service as predictions
from server.workspace import bp

PAGE = 50
MAX_OFFSET = 10_000_000  # as the API's
# Cursors are event ids: hex time, then a key (as the API's activity feed checks them).
_CURSOR = re.compile(r"[0-9a-f]{1,20}[A-Za-z0-9_-]{0,24}")


def _cursor(name: str) -> str | None:
    """The cursor argument `name`; a hand-edited one is ignored (the newest page)."""
    value = request.args.get(name)
    return value if value and _CURSOR.fullmatch(value) else None


@bp.get("/mail")
@login_required
def mail_page():
    """The tracked messages the person may see, searched and filtered, newest first."""
    q = request.args.get("q", "")[:200]
    show = request.args.get("show", "")
    show = show if show in mail.FILTERS else ""
    offset = whole_number(request.args.get("offset"), 0, MAX_OFFSET) or 0
    found = mail.messages_page(db.session, current_user, q, show, PAGE, offset)
    return render_template(
        "workspace/mail.html",
        found=found,
        q=q,
        show=show,
        filters=mail.FILTERS,
        offset=offset,
        page=PAGE,
    )


@bp.get("/mail/<mid>")
@login_required
def message_page(mid: str):
    """One message: recipients, each hit in words with device and place, clicks per link; the
    machine hits folded away."""
    found = mail.message_page(db.session, current_user, mid[:64])
    if found is None:
        abort(404)
    # The forecast shows only what beats its baseline in the latest backtest (predictions.md).
    forecast = predictions.message_prediction(db.session, current_user, found["id"], utcnow())
    return render_template("workspace/message.html", m=found, forecast=forecast)


@bp.get("/activity")
@login_required
def activity_page():
    """Opens, clicks, replies and bounces, newest first, a page at a time; the first page
    follows new activity live (static/activity.js polls the updates)."""
    before = _cursor("before")
    live = None if before else activity.horizon()
    found = activity.history(db.session, current_user, before or live, PAGE)
    return render_template("workspace/activity.html", found=found, live=live, before=before)


@bp.get("/activity/updates")
@login_required
def activity_updates():
    """The activity after the cursor `after`, oldest first, and the next cursor (JSON)."""
    after = _cursor("after")
    if after is None:
        return jsonify({"error": "invalid_request", "message": "`after` must be a cursor."}), 400
    found = activity.updates(db.session, current_user, after)
    rows = [render_template("workspace/activity_row.html", e=e) for e in found["events"]]
    return jsonify({"cursor": found["cursor"], "events": found["events"], "rows": rows})
