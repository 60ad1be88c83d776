"""The API's JSON errors: {"error": code, "message": text}."""

from __future__ import annotations

import logging

from flask import jsonify
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from server.auth import throttle
from server.extensions import db

log = logging.getLogger(__name__)
API_PREFIX = "/api/"


class ApiError(Exception):
    """An error answered as JSON with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: list | None = None):
    """A JSON error response."""
    body = {"error": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="leadcamp"'
    return response


def register_error_handlers(bp) -> None:
    """Answer every error raised under the blueprint as JSON."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 413:
            # Too large a body is a bad request like any other malformed body.
            return error_response(400, "payload_too_large", "The request body is too large.")
        return http_json(exc)

    @bp.errorhandler(OperationalError)
    def _database_busy(exc: OperationalError):
        # A lock held too long (SQLite has one writer) or a database that is away: nothing was
        # changed, and the same call a moment later will do. Not a failure of the server's code.
        db.session.rollback()
        log.warning("API call answered 503: the database is busy or away (%s)", exc.orig)
        response = error_response(
            503, "database_busy", "The database is busy; nothing was changed. Try again shortly."
        )
        response.headers["Retry-After"] = "1"
        return response

    @bp.errorhandler(429)
    def _too_many(_exc: HTTPException):
        seconds = throttle.retry_after()
        response = error_response(
            429, "rate_limited", f"Too many attempts from this address; retry in {seconds} s."
        )
        response.headers["Retry-After"] = str(seconds)
        return response

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("API error")
        return error_response(500, "internal_error", "Something went wrong on the server.")

    # Unmatched URLs never reach the blueprint's own handlers: server/common/errors.py answers those
    # under /api/ with http_json, the rest with the styled page.


def http_json(exc: HTTPException):
    """An HTTP error as the API's JSON error."""
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)
