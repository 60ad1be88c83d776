"""Untrusted input read the same way everywhere: whole numbers, JSON nesting, NUL characters,
ids in URLs."""

from __future__ import annotations

import re

from flask import abort, request
from werkzeug.routing import IntegerConverter

# Deeper than any body the API accepts, and far below the nesting at which Python's JSON parser
# runs out of stack (about a thousand levels, a 2 KB body).
MAX_JSON_DEPTH = 32

# A string literal (skipped: brackets inside it do not nest) or one bracket.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)

# Row ids are 32-bit on PostgreSQL; a larger one in a URL would fail in the database.
MAX_ID = 2**31 - 1


class InputError(ValueError):
    """Input that cannot be accepted: the message says why, `field` names the form field at
    fault ("" when the whole form is), so a page can mark that field and focus it."""

    def __init__(self, message: str = "", field: str = ""):
        super().__init__(message)
        self.field = field


def whole_number(raw: str | None, low: int, high: int) -> int | None:
    """`raw` as an int when it is ASCII digits only and within low..high; else None."""
    text = (raw or "").strip()
    # str.isdigit() accepts "²" and "①", which int() refuses; a digit string longer than the
    # bound's is out of range anyway, and int() of thousands of digits raises too.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `data` nests arrays and objects deeper than `limit`.

    A scan without parsing, so it cannot itself run out of stack; meant to run before the parser.
    """
    depth = 0
    for match in _JSON_TOKEN.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth = max(depth - 1, 0)
    return False


def contains_nul(value: object) -> bool:
    """Whether a string in `value` (a string, or lists and dicts of them) holds a NUL character.

    No database text can store one (PostgreSQL refuses it), so such input is malformed. Nesting is
    walked recursively: call it on JSON only after json_too_deep, on form values as they come.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


def nul_in_query() -> bool:
    """Whether a name or value of the request's query string holds a NUL character."""
    return contains_nul(list(request.args.lists()))


def refuse_nul() -> None:
    """A before_request hook of the HTML blueprints: a NUL in the query string or in a posted
    form's names or values is a 400."""
    form = list(request.form.lists()) if request.method == "POST" else []
    if nul_in_query() or contains_nul(form):
        abort(400, "A submitted value contains a NUL character.")


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits only, at most MAX_ID (else the URL is a 404).

    Werkzeug's own accepts any Unicode digit and any size, which the database then refuses.
    """

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def like_pattern(text: str) -> str:
    """A lower-case LIKE pattern (escape: backslash) finding `text` anywhere: typed % and _ are
    literal text, not wildcards."""
    text = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"
