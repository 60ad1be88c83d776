"""The extension rewrites mail bodies exactly as the server does: same links, same bytes, for each
combination of the parts tracked (opens, links)."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from server.messages.rewrite import strip_pixels, track_html
from tests.messages import test_rewrite

ROOT = Path(__file__).resolve().parents[2]
OWN = ["t.example", "LOCALHOST:5000"]
PIXEL = "https://t.example/o/k1.m2.Sig2.gif"

FRAGMENTS = [
    '<a href="https://acme.example/a?x=1&amp;y=2">a</a>',
    "<a href='http://acme.example/single'>s</a>",
    "<a href=https://acme.example/bare>b</a>",
    '<a HREF="HTTPS://Acme.Example/Upper">u</a>',
    '<a href="mailto:x@acme.example">m</a>',
    '<a href="tel:+1555">t</a>',
    '<a href="#top">anchor</a>',
    '<a href="/relative/path">rel</a>',
    '<base href="https://base.example/dir/">',
    '<a href="https://t.example/c/already">ours</a>',
    '<a href="http://localhost:5000/x">ours too</a>',
    '<a name="x" href="  https://acme.example/spaced  ">sp</a>',
    '<a href="https://acme.example/a?x=1&amp;y=2">again</a>',
    '<img src="https://t.example/o/old.msg.sig.gif" width="1" height="1">',
    '<img src="https://ci3.googleusercontent.com/meips/AB12=s0-d-e1-ft#https://t.example/o/q.r.s.gif">',
    '<img src="https://acme.example/logo.png" alt="logo">',
    '<area href="https://acme.example/map">',
    '<table><tr><td><a href="https://acme.example/t">cell</a></td></tr></table>',
    '<div class="gmail_quote"><blockquote>On Mon, Sam wrote:<br>',
    "</blockquote></div>",
    "<!-- a comment <a href='https://acme.example/in-comment'> -->",
    "<script>var a = '<a href=\"https://acme.example/js\">';</script>",
    "<style>a{color:red}</style>",
    "<p>1 < 2 and 3 > 2 &amp; so on</p>",
    "<![CDATA[ <a href='https://acme.example/cdata'> ]]>",
    "<!DOCTYPE html><html><body>",
    "</body></html>",
    "<body/>",
    '<a href="https://例え.テスト/パス?q=ü">idn</a>',
    '<a href="https://acme.example/&#x61;&#98;c">refs</a>',
    '<a title=\'x" y\' href="https://acme.example/quote">q</a>',
    '<a href="https://acme.example:8443/port">port</a>',
    '<a href="https://[::1]:99/v6">v6</a>',
    "<p>text</p>",
    "<",
    '<a href="https://acme.example/unfinished',
    "<!-- unclosed",
    "<script>never closed",
]


def corpus() -> list[str]:
    """The server's own test bodies plus seeded random mixes of awkward fragments."""
    bodies = [
        value
        for name, value in vars(test_rewrite).items()
        if name.isupper() and isinstance(value, str) and "<" in value
    ]
    rng = random.Random(20261125)
    bodies += ["".join(rng.choices(FRAGMENTS, k=rng.randint(1, 9))) for _ in range(400)]
    return bodies


def link(url: str) -> str:
    return "https://t.example/c/" + base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()


# Both parts, opens only, links only, neither: what the rep's two compose toggles can ask for.
PARTS = [(True, True), (True, False), (False, True), (False, False)]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
@pytest.mark.parametrize(("opens", "links"), PARTS)
def test_the_extension_and_the_server_make_the_same_tracked_bodies(opens: bool, links: bool):
    bodies = corpus()
    pixel = PIXEL if opens else None
    cases = [{"html": body, "pixel": pixel, "own": OWN, "links": links} for body in bodies]
    result = subprocess.run(
        ["node", str(ROOT / "extension/tools/rewrite-cli.mjs")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    mismatches = []
    for body, js in zip(bodies, json.loads(result.stdout), strict=True):
        server = track_html(body, pixel, link if links else None, OWN)
        expected = {"html": server.html, "links": server.links, "stripped": strip_pixels(body, OWN)}
        if js != expected:
            mismatches.append({"body": body, "server": expected, "extension": js})
    assert not mismatches, json.dumps(mismatches[:3], indent=1, ensure_ascii=False)
