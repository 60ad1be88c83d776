"""Reports over the API: the same numbers as the Reports page, as JSON or CSV.

A rep gets their own report; an admin the team's, or any member's with `user`. Query
arguments: `period` (day, week, month; default week), `periods` (2..36), `date` (YYYY-MM-DD,
the day the last period holds; default today, UTC), `user` (a user id).
"""

from __future__ import annotations

from flask import g, request

from server.accounts import team
from server.api import bp
from server.api.errors import ApiError
from server.api.insights.schemas import ReportOut
from server.api.openapi import operation
from server.common import csv_safe
from server.extensions import db
from server.insights import export, query, reports

_ARGS = " (query: period=day|week|month, periods, date=YYYY-MM-DD, user=id)"
_QUERY = (
    ("period", "day, week (from Monday) or month, in UTC; default week", {"type": "string"}),
    ("periods", "how many periods, 2 to 36 (default 14, 8 or 6)", {"type": "integer"}),
    ("date", "YYYY-MM-DD, a day the last period holds; default today", {"type": "string"}),
    ("user", "a member's id (admins); omitted: the rep's own, or the team's", {"type": "integer"}),
)


def _report() -> dict:
    try:
        asked = query.from_args(request.args)
    except query.QueryError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc
    try:
        user = reports.scope_user(db.session, g.user, asked.user_id)
    except team.NotFound as exc:
        raise ApiError(404, "not_found", "No such user in your reports.") from exc
    return reports.report(db.session, g.user.account_id, user, asked.period, asked.day, asked.count)


@operation(
    bp,
    "/reports",
    "GET",
    "My report, or an admin's team or rep report" + _ARGS,
    ReportOut,
    query=_QUERY,
)
def get_report():
    """Sent, real open, click, reply and bounce rates, medians and the hit mix per period."""
    return _report()


@operation(
    bp,
    "/reports/export",
    "GET",
    "The same report as CSV, one row per person and period" + _ARGS,
    None,
    produces="text/csv",
    query=_QUERY,
)
def export_report():
    """The report as formula-guarded CSV."""
    data = _report()
    return csv_safe.download(export.csv_text(data), f"report-{data['period']}.csv")
