"""The extension's token: exchanged for a one-time connect code, revoked on sign-out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from flask import g
from pydantic import BaseModel, Field

from server.accounts import connect as extension_connect
from server.accounts import users as accounts
from server.api import bp
from server.api.errors import ApiError
from server.api.openapi import operation
from server.api.schemas import Strict, UserOut
from server.api.views import user_view
from server.auth import throttle
from server.extensions import db


class TokenIn(Strict):
    code: Annotated[str, Field(min_length=16, max_length=64)]
    verifier: Annotated[str, Field(min_length=43, max_length=128)]


class TokenOut(BaseModel):
    token: str = Field(description="Bearer token for this API; shown once")
    user: UserOut


class RevokedOut(BaseModel):
    revoked: bool


@operation(
    bp,
    "/extension/token",
    "POST",
    "Exchange a one-time connect code and its verifier for an API token",
    TokenOut,
    body=TokenIn,
    auth=False,
)
@throttle.connect
def extension_token(body: TokenIn):
    """Spend a connect code; answer a fresh API token."""
    try:
        user, token = extension_connect.redeem_code(
            db.session, body.code, body.verifier, datetime.now(UTC)
        )
    except extension_connect.ConnectError as exc:
        db.session.rollback()
        raise ApiError(400, exc.code, str(exc)) from exc
    db.session.commit()
    return {"token": token, "user": user_view(user)}


@operation(
    bp, "/extension/token", "DELETE", "Revoke the token of this request (sign-out)", RevokedOut
)
def extension_sign_out():
    """Revoke the bearer token the request carries."""
    revoked = accounts.revoke_api_token(db.session, g.api_token)  # checked by authenticate()
    db.session.commit()
    return {"revoked": revoked}
