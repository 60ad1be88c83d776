"""Predictions API: a message's reply and open likelihood, a contact's best time to send, and
the threads at risk. A likelihood is given only while its latest backtest beats its baseline."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g

from server.api import bp
from server.api.args import int_arg
from server.api.errors import ApiError
from server.api.openapi import operation
from server.api.predictions import schemas
from server.extensions import db
from server.predictions import service


@operation(
    bp,
    "/messages/<mid>/prediction",
    "GET",
    "Likelihood that my message gets a reply and a real open within 7 days, and whether it is "
    "at risk",
    schemas.PredictionOut,
)
def message_prediction(mid: str):
    """One of the rep's own messages (an admin: the account's), predicted."""
    out = service.message_prediction(db.session, g.user, mid, datetime.now(UTC))
    if out is None:
        raise ApiError(404, "not_found", "No such message in your account.")
    return out


@operation(
    bp,
    "/contacts/<email>/best-time",
    "GET",
    "The best UTC hour and weekday to send to a contact, with the evidence behind it",
    schemas.BestTimeOut,
)
def contact_best_time(email: str):
    """A contact of the account: when they engage, smoothed toward company and account."""
    out = service.contact_best_time(db.session, g.user, email)
    if out is None:
        raise ApiError(404, "not_found", "No such contact in your account.")
    return out


@operation(
    bp,
    "/predictions/at-risk",
    "GET",
    "My threads really opened ?days= (default 3) or more days ago with no reply since",
    schemas.AtRiskOut,
    query=(
        ("days", "opened at least this many days ago, 1 to 30 (default 3)", {"type": "integer"}),
    ),
)
def at_risk():
    """The rep's own threads at risk (an admin: the account's)."""
    days = int_arg("days", service.AT_RISK_DAYS, 1, 30)
    return {"days": days, "messages": service.at_risk(db.session, g.user, datetime.now(UTC), days)}
