"""Redirect targets: which URLs the redirect can send, and the exact Location it sends."""

from __future__ import annotations

import string
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.urls import iri_to_uri

from server.common.targets import MAX_BYTES, MAX_LOCATION, BadTarget, is_redirectable, location
from tests.support.targets import BAD_TARGETS

GOOD = [
    # (target, Location)
    ("https://example.com/pricing?plan=pro#top", "https://example.com/pricing?plan=pro#top"),
    ("http://bücher.example/ä?q=ü", "http://xn--bcher-kva.example/%C3%A4?q=%C3%BC"),
    ("https://例え.テスト/パス", "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9"),
    # UTS #46 non-transitional, as browsers: ß is its own letter, not "ss".
    ("https://faß.de/", "https://xn--fa-hia.de/"),
    # Mapped first: case, full-width letters, an ideographic full stop.
    ("HTTPS://WWW.Example.COM/Path", "https://www.example.com/Path"),
    ("https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\u3002com/", "https://example.com/"),
    ("https://BÜCHER.example/", "https://xn--bcher-kva.example/"),
    ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    ("https://my_host.example/", "https://my_host.example/"),
    ("https://example.com./", "https://example.com./"),
    ("https://a.example:8443/x", "https://a.example:8443/x"),
    ("https://a.example:443/", "https://a.example:443/"),
    ("https://a.example:00080/", "https://a.example:80/"),
    ("https://a.example:/x", "https://a.example/x"),  # an empty port is no port
    ("https://a.example:65535/", "https://a.example:65535/"),
    ("https://a.example:1/", "https://a.example:1/"),
    ("http://192.0.2.1/", "http://192.0.2.1/"),
    ("http://192.0.2.1./", "http://192.0.2.1/"),
    ("http://[2001:DB8:0:0::1]:8080/x", "http://[2001:db8::1]:8080/x"),
    ("http://[::1]/", "http://[::1]/"),
    ("https://example.com", "https://example.com"),
    # Path, query and fragment are percent-encoded where they are not plain URI text.
    ("https://example.com/a b/c\u00a0d", "https://example.com/a%20b/c%C2%A0d"),
    ("https://example.com/%C3%A9?x=%zz", "https://example.com/%C3%A9?x=%zz"),
    ("https://example.com/a\"<>'{}|^`", "https://example.com/a%22%3C%3E'%7B%7D%7C%5E%60"),
    ("https://example.com/?a=1&b=[2]#f?g#h", "https://example.com/?a=1&b=%5B2%5D#f?g#h"),
    (
        "https://example.com/" + "a" * (MAX_BYTES - 20),
        "https://example.com/" + "a" * (MAX_BYTES - 20),
    ),
]


@pytest.mark.parametrize(("url", "expected"), GOOD)
def test_good_targets_get_their_encoded_location(url, expected):
    assert location(url) == expected
    assert is_redirectable(url)


@pytest.mark.parametrize("url", BAD_TARGETS)
def test_bad_targets_are_refused(url):
    with pytest.raises(BadTarget):
        location(url)
    assert not is_redirectable(url)


def test_the_refusals_are_values_errors_that_say_why():
    with pytest.raises(ValueError, match="port"):
        location("http://example.com:99999/")
    with pytest.raises(BadTarget, match="user name or password"):
        location("http://user@example.com/")


_HOST_TEXT = string.ascii_letters + string.digits + "-."
_URL_TEXT = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=% "


@given(
    st.sampled_from(["http", "https"]),
    st.lists(st.text(_HOST_TEXT.replace(".", ""), min_size=1, max_size=20), min_size=1, max_size=4),
    st.text(_URL_TEXT, max_size=60),
)
def test_ordinary_targets_keep_the_location_they_had(scheme, labels, rest):
    # Before this module the redirect sent werkzeug's iri_to_uri(url); a link that worked then
    # must still reach the same place.
    url = f"{scheme}://{'.'.join(labels)}/{rest}"
    if not is_redirectable(url):
        return
    assert location(url) == iri_to_uri(url)


_ANY = st.text(st.characters(codec="utf-8"), max_size=80)


@given(st.one_of(_ANY, _ANY.map(lambda t: "http://" + t), _ANY.map(lambda t: "https://a.b/" + t)))
@example("http://exa mple.com/")
@example("http://example.com:99999/")
def test_every_location_is_a_header_safe_uri_that_converts_to_itself(url):
    try:
        sent = location(url)
    except BadTarget:
        assert not is_redirectable(url)
        return
    assert is_redirectable(url)
    assert sent.isascii() and all(0x21 <= ord(c) < 0x7F for c in sent)
    assert len(sent) <= MAX_LOCATION
    parts = urlsplit(sent)
    assert parts.scheme in {"http", "https"} and parts.hostname
    assert location(sent) == sent
