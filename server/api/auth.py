"""Bearer-token authentication for the extension's API."""

from __future__ import annotations

from flask import g, request

from server.accounts import users as accounts
from server.api.errors import ApiError
from server.extensions import db
from server.models import User


def authenticate() -> User:
    """The live API token's user (kept in `g.user`, the token in `g.api_token`); 401 otherwise."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "An API token is required (Authorization: Bearer).")
    user = accounts.user_for_token(db.session, token)
    if user is None:
        raise ApiError(401, "unauthorized", "The API token is unknown or revoked.")
    g.user, g.api_token = user, token
    return user
