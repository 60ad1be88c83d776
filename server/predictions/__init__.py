"""Predictions: reply and open likelihood, best time to send, threads at risk, their backtests,
and the demo data to try them on. The `/predictions` page is this package's blueprint."""

from flask import Blueprint

bp = Blueprint("predictions", __name__, url_prefix="/predictions")

from server.predictions import pages  # noqa: E402,F401  (registers the page on bp)
