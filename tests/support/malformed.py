"""Malformed values for every HTML form, and the list of forms taken from the URL map, so a new
form without a malformed case fails its blueprint's test instead of going untested."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

# Values that look like input but are not what the form expects: Unicode digits (str.isdigit()
# accepts them, int() refuses some), NUL (PostgreSQL text refuses it), a formula, control
# characters, something far too long, a number with thousands of digits, only spaces.
VALUES = [
    "",
    "   ",
    "²",
    "①٣\uff11",
    "-1",
    "9" * 5000,
    "a\x00b",
    '=HYPERLINK("http://evil.test")',
    "line\r\nbreak\x1b[0m",
    "é" * 20_000,
    "x" * 100_000,
]
# A file field gets files: empty, binary, a CSV with a broken quote, a CSV of one huge cell.
FILES = [b"", b"\xff\xfe\x00\x00garbage", b'email\n"unterminated,\n', b"email\n" + b"a" * 400_000]
# What an int path segment is tried with: Unicode digits, beyond a 32-bit id, a huge number.
BAD_IDS = ["²", "١٢", "\uff11", str(2**31), "9" * 30]


@dataclass(frozen=True)
class Form:
    """One form's target: its path (placeholders filled from the test's rows) and its fields."""

    path: str
    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def post_endpoints(app, blueprint: str) -> set[str]:
    """The endpoints of `blueprint` that take a POST."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint.split(".")[0] == blueprint
    }


def bodies(form: Form) -> list[dict]:
    """Every malformed body for `form`: nothing at all, each value in every field at once, each
    field repeated (a list where one value is expected), and each malformed file."""
    out: list[dict] = [{}]
    out += [{f: value for f in form.fields} for value in VALUES]
    out.append({f: ["a", "b"] for f in form.fields})
    for content in FILES:
        out.append({f: (io.BytesIO(content), "contacts.csv") for f in form.files})
    out.append({f: "not a file" for f in form.files})
    return out


def paths(path: str) -> list[str]:
    """`path`, and the path with each malformed id in place of its first number."""
    if not re.search(r"/\d+(?=/|$)", path):
        return [path]
    return [path] + [re.sub(r"/\d+(?=/|$)", "/" + bad, path, count=1) for bad in BAD_IDS]


def check_form(client, form: Form, csrf_token: str, caplog) -> None:
    """POST every malformed body to the form (with a valid CSRF token, so the values reach the
    view): each gets a 4xx or a page (a re-rendered form, a redirect), never a 5xx or a logged
    error. With TESTING on, an unhandled exception raises here instead of answering 500."""
    for target in paths(form.path):
        for body in bodies(form):
            response = client.post(target, data={"csrf_token": csrf_token, **body})
            shown = {
                k: (v if isinstance(v, str) else type(v).__name__)[:30] for k, v in body.items()
            }
            assert response.status_code < 500, (target[:80], shown)
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
            assert not errors, (target[:80], shown, [r.getMessage() for r in errors])
