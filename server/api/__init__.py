"""The JSON API for the extension: bearer tokens, schema-validated bodies, JSON errors."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from server.api import (  # noqa: E402,F401
    activity,
    extension,
    views,
)
from server.api.errors import register_error_handlers  # noqa: E402

register_error_handlers(bp)
