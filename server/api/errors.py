"""The API's JSON errors: {"error": code, "message": text}."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException


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
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)
