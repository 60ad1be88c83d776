"""Sign-in: the magic link for the bootstrap admin (Google sign-in joins here later)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from server.auth import views  # noqa: E402,F401
from server.auth import extension  # noqa: E402,F401,I001
