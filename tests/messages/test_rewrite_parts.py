"""Tracking only some parts of a message: opens only (the pixel, links as written), links only (no
pixel), or neither (only our earlier pixels dropped)."""

from __future__ import annotations

import pytest

from server.messages.rewrite import strip_pixels, track_html
from tests.messages.test_rewrite import (
    OWN,
    PIXEL,
    PIXEL_TAG,
    QUOTED_REPLY,
    fake_link,
    parse,
    track,
    tracked_href,
)


def test_opens_only_appends_the_pixel_and_leaves_every_link_as_written() -> None:
    result = track_html(QUOTED_REPLY, PIXEL, None, OWN)
    assert result.links == []
    assert parse(result.html).hrefs == parse(QUOTED_REPLY).hrefs
    assert result.html == strip_pixels(QUOTED_REPLY, OWN) + PIXEL_TAG
    # Exactly what tracking both makes, with the links put back.
    both = track(QUOTED_REPLY)
    assert both.html.replace(
        tracked_href("https://acme.example/demo"), "https://acme.example/demo"
    ) == (result.html)


def test_links_only_rewrites_the_links_adds_no_pixel_and_still_drops_old_ones() -> None:
    result = track_html(QUOTED_REPLY, None, fake_link, OWN)
    assert result.links == ["https://acme.example/demo"]
    assert f'<a href="{tracked_href("https://acme.example/demo")}">' in result.html
    assert "/o/" not in result.html.replace("cdn.other.example/o/", "")
    assert PIXEL not in result.html
    assert parse(result.html).images == [
        "https://t.example/static/logo.png",
        "https://ci4.googleusercontent.com/proxy/Ab1=s0-d-e1-ft"
        "#https://cdn.other.example/o/banner.gif",
    ]


def test_neither_part_is_the_body_without_our_pixels() -> None:
    result = track_html(QUOTED_REPLY, None, None, OWN)
    assert result.links == [] and result.html == strip_pixels(QUOTED_REPLY, OWN)


@pytest.mark.parametrize("opens", [True, False])
@pytest.mark.parametrize("links", [True, False])
def test_every_combination_is_idempotent(opens: bool, links: bool) -> None:
    def run(body: str) -> str:
        return track_html(body, PIXEL if opens else None, fake_link if links else None, OWN).html

    once = run(QUOTED_REPLY)
    assert run(once) == once
    assert once.count(PIXEL_TAG) == int(opens)
