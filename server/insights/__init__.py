"""Insights: reports per rep and team over periods, drawn as server-side SVG charts.

The blueprint serves the Reports page (views.py); the JSON API's routes are in
server/api/reports.py. The engagement score of contacts and companies lives in
server/contacts/engagement.py, the one formula everything uses.
"""

from __future__ import annotations

from flask import Blueprint

from server.common.inputs import refuse_nul

bp = Blueprint("insights", __name__, url_prefix="/reports")
bp.before_request(refuse_nul)

from server.insights import views  # noqa: E402,F401  (registers the routes on bp)
