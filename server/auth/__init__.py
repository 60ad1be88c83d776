"""Sign-in: the magic link for the bootstrap admin (Google sign-in joins here later)."""

from flask import Blueprint

from server.common.inputs import refuse_nul

bp = Blueprint("auth", __name__)
bp.before_request(refuse_nul)

from server.auth import extension, google, views  # noqa: E402,F401
