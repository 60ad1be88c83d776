"""The Reports page: everyone sees their own figures, admins the team's and any rep's.

Thin: read the query, ask reports.report, draw the charts; the numbers are the API's.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from server.accounts import team
from server.common import csv_safe, errors
from server.extensions import db
from server.insights import bp, charts, export, query, reports
from server.models.message import VERDICTS

RATE_NAMES = ("open_rate", "click_rate", "reply_rate", "bounce_rate")


@bp.errorhandler(team.NotFound)
def not_found(_exc):
    """Another rep's report, for a rep, or another account's user: nothing here."""
    return errors.page(404)


def _report():
    try:
        asked = query.from_args(request.args)
    except query.QueryError as exc:
        abort(400, str(exc))
    user = reports.scope_user(db.session, current_user, asked.user_id)
    data = reports.report(
        db.session, current_user.account_id, user, asked.period, asked.day, asked.count
    )
    return asked, data


@bp.get("")
@login_required
def reports_page():
    """Charts and tables of the chosen rep (or the team) per period, with the comparison."""
    asked, data = _report()
    labels = [p["label"] for p in data["series"]]
    drawn = {
        "sent": charts.bars(
            "chart-sent", "Messages sent", labels, [p["sent"] for p in data["series"]]
        ),
        "rates": charts.lines(
            "chart-rates",
            "Real open, click, reply and bounce rates",
            labels,
            {name: [p[name] for p in data["series"]] for name in RATE_NAMES},
        ),
        "hits": charts.stacked(
            "chart-hits",
            "Who made the hits",
            labels,
            {v: [p["hits"][v] for p in data["series"]] for v in VERDICTS},
        ),
        "rates_legend": charts.legend(list(RATE_NAMES)),
        "hits_legend": charts.legend(list(VERDICTS)),
    }
    members = team.members(db.session, current_user.account_id) if current_user.is_admin else []
    return render_template(
        "insights/reports.html",
        report=data,
        asked=asked,
        charts=drawn,
        members=members,
        rates=RATE_NAMES,
        verdicts=VERDICTS,
    )


@bp.get("/export.csv")
@login_required
def reports_export():
    """The page's report as CSV (the API's numbers, formula-guarded)."""
    _, data = _report()
    return csv_safe.download(export.csv_text(data), f"report-{data['period']}.csv")
