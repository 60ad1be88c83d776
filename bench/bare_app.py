"""The bare-Flask baseline: one route answering the tracking GIF, doing no work at all.

It runs under the same web server command line as the real server, so the gap between the two is
what recording a hit costs, and the gap to nginx is what Python and WSGI cost.
"""

from __future__ import annotations

from flask import Flask

from server.tracking.fastpath import GIF, PIXEL_HEADERS

app = Flask(__name__)


@app.get("/o/<path:token>")
def pixel(token: str):
    """The same 43 bytes with the same headers as the real pixel."""
    return GIF, 200, PIXEL_HEADERS
