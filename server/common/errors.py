"""The error pages people see: one styled template for every HTTP error a browser meets, while
the paths of a JSON API (server/api) keep answering their errors as JSON.

A server error page says only that something went wrong: Flask logs the exception, and the page,
which anyone who can reach the server may read, names nothing of it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

# Title and explanation per status; any other status gets a generic pair.
PAGES = {
    400: ("Bad request", "The form or link could not be read. Reload the page and try again."),
    403: ("Not allowed", "Your role does not give you access to this page."),
    404: ("Not found", "There is nothing here: the address is wrong, or what it named is gone."),
    405: ("Not allowed here", "This address does not accept that kind of request."),
    413: ("Too large", "What you sent is larger than the server accepts. Try a smaller file."),
    500: ("Something went wrong", "The server could not answer. Please try again later."),
}


def page(status: int, title: str = "", text: str = "", back: tuple[str, str] | None = None):
    """The styled error page for `status` (title and text default to the status's own; `back`
    is a (URL, words) link to where the person came from)."""
    default_title, default_text = PAGES.get(status, ("Error", "The request could not be served."))
    title, text = title or default_title, text or default_text
    try:
        html = render_template("error.html", status=status, title=title, text=text, back=back)
        return html, status
    except Exception:
        if status < 500:
            raise
        # The page itself failed (the layout asks the database who is signed in, and the
        # database may be what broke): a bare page with the stylesheet, naming nothing.
        return FALLBACK.format(title=escape(title), text=escape(text)), status


FALLBACK = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · Leadcamp</title>'
    '<link rel="stylesheet" href="/static/style.css"></head><body><main id="content">'
    "<h1>{title}</h1><p>{text}</p></main></body></html>"
)


def init_app(app: Flask, json_paths: dict[str, Callable[[HTTPException], object]]) -> None:
    """Answer HTTP errors with the styled page; under a prefix of `json_paths`, with its JSON
    answer instead (404 and 405 of unrouted URLs reach no blueprint's own handlers)."""

    def handle(exc: HTTPException):
        for prefix, answer in json_paths.items():
            if request.path.startswith(prefix):
                return answer(exc)
        if isinstance(exc, CSRFError):
            # A page left open past the session, or a form posted from elsewhere.
            text = "The form's CSRF token is missing or expired: reload the page and send it again."
            return page(400, "The form expired", text)
        return page(exc.code or 500)

    app.register_error_handler(HTTPException, handle)
    # By code too: a blueprint's app-wide handler for one of these would otherwise win.
    for code in (404, 405, InternalServerError.code):
        app.register_error_handler(code, handle)
