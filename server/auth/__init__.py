"""Sign-in: the magic link for the bootstrap admin (Google sign-in joins here later)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from server.auth import extension, google, views  # noqa: E402,F401
