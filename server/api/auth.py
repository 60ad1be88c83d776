"""Bearer-token authentication for the extension's API."""

from __future__ import annotations

from flask import g, request

from server.api.errors import ApiError
from server.extensions import db
from server.models import User
from server.services import accounts


def authenticate() -> User:
    """The user of the request's live API token (also kept in `g.user`); 401 otherwise."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "An API token is required (Authorization: Bearer).")
    user = accounts.user_for_token(db.session, token.strip())
    if user is None:
        raise ApiError(401, "unauthorized", "The API token is unknown or revoked.")
    g.user = user
    return user
