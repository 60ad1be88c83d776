"""The JSON API for the extension: bearer tokens, schema-validated bodies, JSON errors."""

from flask import Blueprint

from server.api.args import refuse_nul

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(refuse_nul)  # a NUL in the query string, before any view reads it

from server.api import gmail_views, views  # noqa: E402,F401  (registers the routes on bp)
from server.api.errors import register_error_handlers  # noqa: E402

register_error_handlers(bp)

from server.api import (  # noqa: E402,F401  (more routes)
    activity,
    contacts,
    extension,
    follow_ups,
    insights,
    jobs,
    predictions,
    webhooks,
)
