"""Untrusted input read the same way everywhere: whole numbers, JSON nesting."""

from __future__ import annotations

import re

# Deeper than any body the API accepts, and far below the nesting at which Python's JSON parser
# runs out of stack (about a thousand levels, a 2 KB body).
MAX_JSON_DEPTH = 32

# A string literal (skipped: brackets inside it do not nest) or one bracket.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


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
