"""The `/predictions` page: the latest backtest, what it lets the product show, and the
signed-in person's threads at risk (an admin's: the account's)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template, request
from flask_login import current_user, login_required

from server.common.inputs import whole_number
from server.extensions import db
from server.predictions import bp, service


@bp.get("/")
@login_required
def page():
    """The latest backtest and the threads at risk."""
    days = whole_number(request.args.get("days"), 1, 30) or service.AT_RISK_DAYS
    backtest = service.latest(db.session, current_user.account_id)
    risky = service.at_risk(db.session, current_user, datetime.now(UTC), days)
    return render_template(
        "predictions/index.html",
        title="Predictions",
        backtest=backtest,
        at_risk=risky,
        days=days,
        shown={k: service.beats(backtest, k) for k in ("reply", "open", "best_time")},
    )
