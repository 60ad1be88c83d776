"""Query-string arguments of the API, checked the same way on every endpoint."""

from __future__ import annotations

from flask import request

from server.api.errors import ApiError
from server.common.inputs import nul_in_query, whole_number


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """The whole-number argument `name` within low..high, `default` when absent; 400 otherwise."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    number = whole_number(raw, low, high)
    if number is None:
        raise ApiError(
            400, "invalid_request", f"{name} must be a whole number from {low} to {high}."
        )
    return number


def refuse_nul() -> None:
    """Every API call's first check: 400 when the query string holds a NUL character (PostgreSQL
    refuses one in a search, which would otherwise be a 500)."""
    if nul_in_query():
        raise ApiError(400, "invalid_request", "The query string holds a NUL character.")
