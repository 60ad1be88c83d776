"""The pixel and the redirect as a mail client sees them, through the real WSGI stack."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.common import signing, targets
from server.extensions import db
from server.models import Event
from server.tracking.fastpath import GIF, NO_CACHE, NOT_FOUND
from tests.support import click_for, pixel_for, report_message
from tests.support.targets import BAD_TARGETS

SECRET = "test-link-secret"
MID = "q2X0c1ZPq0nqz7lU4m2GdA"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def reported(kid):
    """Hits count only for a reported message of the key's rep."""
    report_message(kid, MID)


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def recorded(app) -> list[Event]:
    app.extensions["leadcamp.sink"].flush()
    db.session.expire_all()
    return db.session.query(Event).order_by(Event.occurred_at).all()


def assert_pixel(response):
    assert response.status_code == 200
    assert response.data == GIF and len(GIF) == 43
    assert response.headers["Content-Type"] == "image/gif"
    assert response.headers["Cache-Control"] == NO_CACHE
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_pixel_records_an_open(client, app, kid):
    assert_pixel(client.get(pixel_for(SECRET, kid, MID), headers={"User-Agent": CHROME}))
    [event] = recorded(app)
    assert (event.kind, event.verdict, event.message_id, event.kid) == ("open", "human", MID, kid)
    assert (event.device_type, event.os_family, event.browser_family) == (
        "desktop",
        "Windows",
        "Chrome",
    )


def test_pixel_signed_with_a_verify_only_secret_still_records(client, app, kid):
    assert_pixel(client.get(pixel_for("old-link-secret", kid, MID)))
    assert len(recorded(app)) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/o/",
        "/o/x.gif",
        "/o/abc.def.ghi.gif",
        "/o/../../etc/passwd",
        "/o/%00%ff.gif",
        "/o/" + "A" * 5000 + ".gif",
    ],
)
def test_pixel_answers_the_gif_to_garbage_and_records_nothing(client, app, kid, path):
    assert_pixel(client.get(path))
    assert recorded(app) == []


def test_forged_pixel_is_served_but_not_recorded(client, app, kid):
    genuine = pixel_for(SECRET, kid, MID)
    assert_pixel(client.get(genuine.replace(MID, "A" * 22)))
    assert_pixel(client.get(pixel_for("someone-elses-secret", kid, MID)))
    assert recorded(app) == []


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300))
def test_pixel_answers_the_gif_to_any_path(client, text):
    assert_pixel(client.get("/o/" + text))


def test_head_is_answered_and_labelled(client, app, kid):
    response = client.head(pixel_for(SECRET, kid, MID), headers={"User-Agent": CHROME})
    assert response.status_code == 200 and response.data == b""
    [event] = recorded(app)
    assert event.method == "HEAD" and event.verdict == "scanner"
    assert "head-request" in event.reason_list


def test_click_redirects_to_the_signed_target_and_records(client, app, kid):
    url = "https://example.com/pricing?plan=pro&utm_source=mail#top"
    response = client.get(
        click_for(SECRET, kid, MID, url) + "?extra=1", headers={"User-Agent": CHROME}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == url
    assert response.headers["Referrer-Policy"] == "no-referrer"
    [event] = recorded(app)
    assert (event.kind, event.link_url, event.verdict) == ("click", url, "human")


def test_non_ascii_targets_are_sent_as_valid_uris(client, kid):
    response = client.get(click_for(SECRET, kid, MID, "https://例え.テスト/パス?q=ü"))
    assert response.status_code == 302
    assert (
        response.headers["Location"] == "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9?q=%C3%BC"
    )


def test_idn_target_redirects_encoded_and_records_the_target_as_signed(client, app, kid):
    url = "http://bücher.example/ä?q=ü"
    response = client.get(click_for(SECRET, kid, MID, url), headers={"User-Agent": CHROME})
    assert response.status_code == 302
    assert response.headers["Location"] == "http://xn--bcher-kva.example/%C3%A4?q=%C3%BC"
    [event] = recorded(app)
    assert (event.kind, event.link_url) == ("click", url)


# A lone surrogate cannot be signed at all: there is no link to click.
SIGNABLE_BAD_TARGETS = [url for url in BAD_TARGETS if not _has_surrogate(url)]


@pytest.mark.parametrize("url", SIGNABLE_BAD_TARGETS)
def test_signed_target_the_redirect_cannot_send_is_a_404_and_records_nothing(client, app, kid, url):
    path = click_for(SECRET, kid, MID, url)
    # Twice each: the second answer comes from the verified-target cache.
    for method in (client.get, client.head, client.get, client.head):
        response = method(path, headers={"User-Agent": CHROME})
        assert response.status_code == 404
        assert "Location" not in response.headers
        assert response.data == (b"" if method == client.head else NOT_FOUND)
    assert recorded(app) == []


_TARGET_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.sampled_from(SIGNABLE_BAD_TARGETS),
        _TARGET_TEXT.map(lambda t: "http://" + t),
        _TARGET_TEXT.map(lambda t: "https://bücher.example/" + t),
    )
)
def test_any_signed_target_redirects_and_records_or_is_a_404_that_records_nothing(
    client, app, kid, url
):
    before = len(recorded(app))
    response = client.get(click_for(SECRET, kid, MID, url))
    if targets.is_redirectable(url):
        assert response.status_code == 302
        assert response.headers["Location"] == targets.location(url)
        assert len(recorded(app)) == before + 1
    else:
        assert response.status_code == 404
        assert len(recorded(app)) == before


def forgeries(kid: str) -> list[str]:
    good = click_for(SECRET, kid, MID, "https://example.com/")
    token, _, encoded = good[3:].partition("/")
    evil = signing.b64encode(b"https://evil.example/")
    return [
        f"/c/{token}/{evil}",  # target swapped
        good[:-4],  # truncated target
        f"/c/{token[:-5]}/{encoded}",  # truncated signature
        f"/c/{token}",  # no target
        "/c/" + token.replace(MID, "B" * 22) + "/" + encoded,  # another message
        click_for("someone-elses-secret", kid, MID, "https://evil.example/"),  # another key
        click_for(SECRET, "unknown1", MID, "https://evil.example/").replace("unknown1", "unknown2"),
        "/c/" + pixel_for(SECRET, kid, MID)[3:-4] + "/" + encoded,  # the pixel's signature
        click_for(SECRET, kid, MID, "javascript:alert(1)"),  # genuine, but not http(s)
        "/c/",
        "/c/%ff%fe/%00",
    ]


def test_forged_and_truncated_links_never_redirect(client, app, kid):
    for path in forgeries(kid):
        for method in (client.get, client.head):
            response = method(path)
            assert response.status_code == 404, path
            assert "Location" not in response.headers
    assert recorded(app) == []


def test_robots_txt_disallows_tracking_paths(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "Disallow: /o/" in response.text and "Disallow: /c/" in response.text


def test_other_paths_reach_flask(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
