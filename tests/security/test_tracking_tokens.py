"""The pixel, the redirect and the target conversion under arbitrary, mutated and truncated
tokens and URLs (hypothesis, derandomized and bounded): never a 5xx, the pixel always answers its
image, a redirect's Location is only ever exactly the Location of a target we signed, and a token
we did not sign is never recorded.
"""

from __future__ import annotations

import string
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.common import signing, targets
from server.extensions import db
from server.models import Event
from server.tracking.fastpath import GIF, NO_CACHE
from tests.support import pixel_for, report_message

SECRET = "test-link-secret"
MID = "q2X0c1ZPq0nqz7lU4m2GdA"
BOUNDED = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
URL_CHARS = string.ascii_letters + string.digits + ":/?#[]@!$&'()*+,;=%.-_~ \\\t\r\nüé€\u200d\uff10"
urls = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=URL_CHARS, max_size=80).map(lambda rest: "http://" + rest),
    st.text(alphabet=URL_CHARS, max_size=80).map(lambda rest: "https://" + rest),
    st.sampled_from(["https://example.com/", "http://[::1]:8080/a?b#c", "https://bücher.example/"]),
)


@st.composite
def mutated(draw, text: str) -> str:
    """`text` truncated, with a character replaced, inserted or removed, or left alone."""
    cut = draw(st.integers(0, len(text)))
    char = draw(st.characters(codec="utf-8"))
    return draw(
        st.sampled_from(
            [
                text[:cut],
                text[:cut] + char + text[cut + 1 :],
                text[:cut] + char + text[cut:],
                text[:cut] + text[cut + 1 :],
                text,
            ]
        )
    )


def recorded(app) -> int:
    """How many events reached the database."""
    app.extensions["leadcamp.sink"].flush()
    db.session.expire_all()
    return db.session.query(Event).count()


def test_the_pixel_always_answers_and_records_only_what_we_signed(app, client, kid):
    """Mutated and arbitrary pixel paths: always the GIF; recorded exactly when genuine."""
    report_message(kid, MID)  # hits count only for a reported message of the key's rep
    genuine = pixel_for(SECRET, kid, MID)
    sent = []

    @BOUNDED
    @given(path=st.one_of(mutated(genuine), st.text().map(lambda t: "/o/" + t)))
    def check(path):
        if not path.startswith("/o/"):
            return  # a mutation of the prefix leaves the pixel; the rest is not its business
        response = client.get(path)
        assert response.status_code == 200
        assert response.data == GIF
        assert response.headers["Cache-Control"] == NO_CACHE
        sent.append(path == genuine)

    check()
    assert recorded(app) == sum(sent), "a token we did not sign was recorded"


def test_a_redirect_goes_only_where_we_signed(app, client, kid):
    """Mutated links: 404, or exactly the signed target's Location; recorded only when genuine."""
    key = signing.derive_key(SECRET, kid)
    report_message(kid, MID)
    redirects = []

    @BOUNDED
    @given(url=urls, data=st.data())
    def check(url, data):
        if not targets.is_redirectable(url):
            return
        genuine = signing.click_path(key, kid, MID, url)
        path = data.draw(mutated(genuine))
        if not path.startswith("/c/"):
            return
        response = client.get(path)
        assert response.status_code in (302, 404), response.status_code
        if response.status_code == 302:
            assert path == genuine or _same_token(path, genuine)
            assert response.headers["Location"] == targets.location(url)
        redirects.append(response.status_code == 302)

    check()
    assert recorded(app) == sum(redirects), "a click we did not sign was recorded"


def _same_token(path: str, genuine: str) -> bool:
    # Werkzeug's test client drops a trailing "?" or "#": the request is still the genuine one.
    return path.rstrip("?#") == genuine


@BOUNDED
@given(url=urls)
def test_any_signed_url_redirects_exactly_to_its_location_or_not_at_all(url):
    """Signing refuses what the redirect cannot send; a Location is safe to send as it is."""
    try:
        location = targets.location(url)
    except targets.BadTarget:
        assert signing.verify_click((SECRET,), *_token(url)) is None
        return
    assert location.isascii() and location.isprintable() and " " not in location
    assert len(location) <= targets.MAX_LOCATION
    parts = urlsplit(location)
    assert parts.scheme in ("http", "https") and parts.hostname and "@" not in parts.netloc
    assert targets.location(location) == location  # sending it again changes nothing
    hit = signing.verify_click((SECRET,), *_token(url))
    assert hit is not None and hit.location == location


def _token(url: str) -> tuple[str, str]:
    """The token and the encoded target of a click link to `url` (signed even when refused)."""
    try:
        encoded = signing.b64encode(url.encode())
    except UnicodeEncodeError:
        encoded = "not-utf-8"
    kid = "k1"
    sig = signing.signature(
        signing.derive_key(SECRET, kid), signing.CLICK, f"{kid}.{MID}.{encoded}"
    )
    return f"{kid}.{MID}.{sig}", encoded


@BOUNDED
@given(token=st.text(max_size=120), rest=st.text(max_size=120))
def test_verification_never_raises(token, rest):
    """Arbitrary text as a pixel or click token: an answer (None), never an exception."""
    assert signing.verify_pixel((SECRET,), token) is None
    assert signing.verify_click((SECRET,), token, rest) is None
