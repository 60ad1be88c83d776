"""Tests for turning an outgoing HTML body into a tracked one."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.common import targets
from server.messages.rewrite import Tracked, strip_pixels, track_html
from tests.support.targets import BAD_TARGETS

OWN = ["t.example", "LOCALHOST:5000"]
PIXEL = "https://t.example/o/k1.m2.Sig2.gif"
PIXEL_TAG = (
    f'<img src="{PIXEL}" width="1" height="1" alt="" style="width:1px;height:1px;border:0;" />'
)
CLICK = "https://t.example/c/x/"


def fake_link(url: str) -> str:
    return CLICK + quote(url, safe="")


def track(body: str) -> Tracked:
    return track_html(body, PIXEL, fake_link, OWN)


def tracked_href(url: str) -> str:
    """The href a rewritten link to `url` gets, as it appears in the markup."""
    return escape(fake_link(url), quote=True)


class _Hrefs(HTMLParser):
    """Reference parse: the first href of every <a>/<area>, and every <img> src."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(reversed(attrs))  # first occurrence wins, as in browsers
        if tag in ("a", "area") and values.get("href") is not None:
            self.hrefs.append(values["href"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # Browsers read "<![...>" in HTML content as a bogus comment; html.parser would raise.
        return self.parse_bogus_comment(i, report)


def parse(body: str) -> _Hrefs:
    parser = _Hrefs()
    parser.feed(body)
    parser.close()
    return parser


GMAIL_BODY = (
    '<div dir="ltr">Hi Dana,<div><br></div><div>Here is the '
    '<a href="https://acme.example/pricing?plan=pro&amp;seats=5">pricing page</a> we discussed.'
    '</div><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
    '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature"><div dir="ltr">'
    "<div>Sam Rivera | Account Executive</div><div>"
    '<a href="https://www.linkedin.com/in/sam-rivera-1a2b3c?utm_source=share&amp;'
    'utm_campaign=share_via&amp;utm_content=profile&amp;utm_medium=ios_app" target="_blank">'
    'LinkedIn</a> · <a href="tel:+15551234567">+1 555 123 4567</a> · '
    '<a href="mailto:sam@acme.example?subject=Hi%20Sam">sam@acme.example</a> · '
    '<a href="https://acme.example/">acme.example</a></div></div></div></div>\n'
)
LINKEDIN = (
    "https://www.linkedin.com/in/sam-rivera-1a2b3c?utm_source=share&utm_campaign=share_via"
    "&utm_content=profile&utm_medium=ios_app"
)

QUOTED_REPLY = (
    '<div dir="ltr">Thanks Dana, the <a href="https://acme.example/demo">demo</a> is booked.'
    '</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 3 Jun 2024 at '
    '10:02, Sam Rivera &lt;<a href="mailto:sam@acme.example">sam@acme.example</a>&gt; wrote:<br>'
    '</div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
    'rgb(204,204,204);padding-left:1ex"><div dir="ltr">Hi Dana, see '
    '<a href="https://t.example/c/k1.m1.Sig1/aHR0cHM6Ly9hY21lLmV4YW1wbGUv">our site</a>.'
    '<img src="https://t.example/o/k1.m1.Sig1.gif" width="1" height="1" alt="" '
    'style="width:1px;height:1px;border:0;" />'
    '<img src="https://ci3.googleusercontent.com/meips/ADKq_NYx3Qv9=s0-d-e1-ft'
    '#http://t.example/o/k1.m0.Sig0.gif" width="1" height="1">'
    "<IMG\n  SRC='https://ci5.googleusercontent.com/proxy/Zq8Xo1=s0-d-e1-ft"
    "#https://t.example/o/k0.m9.Sig9.gif'>"
    '<img src="https://t.example/static/logo.png" alt="Acme">'
    '<img src="https://ci4.googleusercontent.com/proxy/Ab1=s0-d-e1-ft'
    '#https://cdn.other.example/o/banner.gif" alt="banner">'
    "</div></blockquote></div>"
)


def test_gmail_signature_links_are_tracked_and_the_rest_kept_byte_for_byte() -> None:
    seen: list[str] = []

    def signer(url: str) -> str:
        seen.append(url)
        return fake_link(url)

    result = track_html(GMAIL_BODY, PIXEL, signer, OWN)
    pricing = "https://acme.example/pricing?plan=pro&seats=5"
    assert result.links == [pricing, LINKEDIN, "https://acme.example/"]
    assert seen == result.links  # entities decoded before signing, each target signed once
    expected = (
        GMAIL_BODY.replace(
            '"https://acme.example/pricing?plan=pro&amp;seats=5"', f'"{tracked_href(pricing)}"'
        )
        .replace(
            '"https://www.linkedin.com/in/sam-rivera-1a2b3c?utm_source=share&amp;'
            'utm_campaign=share_via&amp;utm_content=profile&amp;utm_medium=ios_app"',
            f'"{tracked_href(LINKEDIN)}"',
        )
        .replace('"https://acme.example/"', f'"{tracked_href("https://acme.example/")}"')
    )
    assert result.html == expected + PIXEL_TAG


def test_new_href_is_reescaped_so_a_parser_reads_back_exactly_the_tracking_url() -> None:
    def with_query(url: str) -> str:
        return "https://t.example/c?u=" + quote(url, safe="") + "&v=1&q='\"<>"

    body = "<a href='https://acme.example/?a=1&amp;b=2'>x</a><a href=https://acme.example/z>z</a>"
    result = track_html(body, PIXEL, with_query, OWN)
    assert "&amp;v=1&amp;q=&#x27;&quot;&lt;&gt;" in result.html
    assert parse(result.html).hrefs == [
        with_query("https://acme.example/?a=1&b=2"),
        with_query("https://acme.example/z"),
    ]


def test_quoted_reply_loses_our_old_pixels_direct_and_proxied() -> None:
    result = track(QUOTED_REPLY)
    assert result.links == ["https://acme.example/demo"]
    images = parse(result.html).images
    assert images == [
        "https://t.example/static/logo.png",
        "https://ci4.googleusercontent.com/proxy/Ab1=s0-d-e1-ft"
        "#https://cdn.other.example/o/banner.gif",
        PIXEL,
    ]
    # Our earlier click link inside the quote is already tracked: left exactly as it was.
    assert '<a href="https://t.example/c/k1.m1.Sig1/aHR0cHM6Ly9hY21lLmV4YW1wbGUv">' in result.html
    assert "<blockquote" in result.html and "</div></blockquote></div>" + PIXEL_TAG in result.html


def test_strip_pixels_removes_only_the_pixel_tags() -> None:
    body = (
        'a<img src="https://t.example/o/k.m.s.gif">b'
        '<img src="http://T.EXAMPLE:80/o/k.m.s.gif" />c'
        '<img src="http://localhost:5000/o/k.m.s.gif">d'
        '<img src="http://localhost:5001/o/k.m.s.gif">e'
        '<img src="https://t.example/other/o/k.gif">f'
        '<img src="https://ci3.googleusercontent.com/meips/X=s0-d-e1-ft#https://t.example/o/k.gif">g'
    )
    assert strip_pixels(body, OWN) == (
        'abcd<img src="http://localhost:5001/o/k.m.s.gif">e'
        '<img src="https://t.example/other/o/k.gif">fg'
    )
    assert strip_pixels(body, []) == body


def test_tables_and_image_maps() -> None:
    body = (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>'
        '<td align="center"><a href="https://acme.example/a" style="color:#1a73e8">A</a></td>'
        '<td><a href="https://acme.example/b"><img src="https://cdn.acme.example/b.png" alt="B">'
        '</a></td></tr><tr><td colspan="2"><a href="https://acme.example/a">A again</a></td></tr>'
        '</table><map name="m"><area shape="rect" coords="0,0,9,9" href="https://acme.example/m">'
        "</map>"
    )
    result = track(body)
    assert result.links == [
        "https://acme.example/a",
        "https://acme.example/b",
        "https://acme.example/m",
    ]
    assert parse(result.html).hrefs == [
        fake_link("https://acme.example/a"),
        fake_link("https://acme.example/b"),
        fake_link("https://acme.example/a"),
        fake_link("https://acme.example/m"),
    ]
    assert parse(result.html).images == ["https://cdn.acme.example/b.png", PIXEL]


def test_base_href_resolves_relative_links() -> None:
    body = (
        '<html><head><base href="https://docs.acme.example/guide/"></head><body>'
        '<a href="install.html">Install</a> <a href="/faq?q=a&amp;b=c">FAQ</a> '
        '<a href="#top">Top</a> <a href="//cdn.acme.example/x.pdf">PDF</a> '
        '<a href="mailto:help@acme.example">mail</a></body></html>'
    )
    result = track(body)
    assert result.links == [
        "https://docs.acme.example/guide/install.html",
        "https://docs.acme.example/faq?q=a&b=c",
        "https://cdn.acme.example/x.pdf",
    ]
    assert parse(result.html).hrefs == [
        fake_link(result.links[0]),
        fake_link(result.links[1]),
        "#top",
        fake_link(result.links[2]),
        "mailto:help@acme.example",
    ]
    assert result.html.endswith(f'mailto:help@acme.example">mail</a>{PIXEL_TAG}</body></html>')


@pytest.mark.parametrize("base", ["", '<base href="/relative/">', '<base target="_blank">'])
def test_relative_links_without_a_usable_base_are_left_alone(base: str) -> None:
    body = f'{base}<a href="install.html">a</a><a href="/faq">b</a><a href="//cdn.example/x">c</a>'
    result = track(body)
    assert result == Tracked(body + PIXEL_TAG, [])


def test_odd_quoting_case_and_layout() -> None:
    body = (
        "<P><A HREF='https://acme.example/one?a=1&amp;b=2'>one</A>\n"
        "<a href=https://acme.example/two/>two</a>\n"
        '<a\n  class="btn"\n  href = "https://acme.example/three"\n  target=_blank\n>three</a>\n'
        '<a title="x > y" href="https://acme.example/four">four</a>\n'
        '<a href="https://acme.example/five" href="https://acme.example/ignored">five</a>\n'
        '<a href="\n  https://acme.example/six\t ">six</a>\r\n'
        '<a href="https://acme.example/se\nven">seven</a></P>'
    )
    one = "https://acme.example/one?a=1&b=2"
    result = track(body)
    assert result.links == [
        one,
        "https://acme.example/two/",
        "https://acme.example/three",
        "https://acme.example/four",
        "https://acme.example/five",
        "https://acme.example/six",
        "https://acme.example/seven",
    ]
    expected = (
        f"<P><A HREF='{tracked_href(one)}'>one</A>\n"
        f'<a href="{tracked_href("https://acme.example/two/")}">two</a>\n'
        f'<a\n  class="btn"\n  href = "{tracked_href("https://acme.example/three")}"\n'
        "  target=_blank\n>three</a>\n"
        f'<a title="x > y" href="{tracked_href("https://acme.example/four")}">four</a>\n'
        f'<a href="{tracked_href("https://acme.example/five")}" '
        'href="https://acme.example/ignored">five</a>\n'
        f'<a href="{tracked_href("https://acme.example/six")}">six</a>\r\n'
        f'<a href="{tracked_href("https://acme.example/seven")}">seven</a></P>'
    )
    assert result.html == expected + PIXEL_TAG


UNTOUCHED = (
    '<a href="mailto:dana@client.example">m</a> <a href="tel:+15551234567">t</a> '
    '<a href="sms:+15551234567">s</a> <a href="#section-2">in page</a> '
    '<a href="javascript:void(0)">js</a> <a href="data:text/html,hi">data</a> '
    '<a href="">empty</a> <a href>bare</a> <a name="anchor">no href</a> '
    '<a href="ftp://files.example/x">ftp</a> <a href="https:///nohost">no host</a> '
    '<a href="https://T.Example/c/k1.m1.Sig1/aGk">own</a> '
    '<a href="http://t.example:80/c/k/x">own, default port</a> '
    '<a href="http://localhost:5000/c/k/x">own, explicit port</a> '
    '<a href="https://t.example./c/k/x">own, trailing dot</a> '
    '<!-- <a href="https://acme.example/commented">c</a> --> '
    "<script>var s = \"<a href='https://acme.example/script'>\";</script>"
)


def test_non_http_own_host_and_non_element_links_are_untouched() -> None:
    assert track(UNTOUCHED) == Tracked(UNTOUCHED + PIXEL_TAG, [])


def test_other_ports_on_our_hostname_are_not_ours() -> None:
    body = '<a href="http://localhost:5001/x">a</a><a href="https://t.example:8443/y">b</a>'
    both = ["http://localhost:5001/x", "https://t.example:8443/y"]
    assert track(body).links == both
    # Own hosts may carry a scheme or the default port; a malformed entry is ignored, not fatal.
    with_scheme = ["https://t.example:8443", "http://localhost:5001/"]
    assert track_html(body, PIXEL, fake_link, with_scheme).links == []
    assert track_html(body, PIXEL, fake_link, ["localhost:5001:x"]).links == both
    own_link = '<a href="https://t.example/c/k/x">own</a>'
    assert track_html(own_link, PIXEL, fake_link, ["T.example:443"]).links == []


def test_non_ascii_urls_are_passed_through_as_written() -> None:
    body = (
        '<a href="https://bücher.example/straße?q=ä&amp;r=1">de</a>'
        '<a href="https://acme.example/caf&eacute;/%C3%A9">fr</a>'
        '<a href="https://xn--trck-roa.example/c/k/x">own, punycode</a>'
        '<a href="https://例え.jp/パス">jp</a>'
    )
    result = track_html(body, PIXEL, fake_link, ["tråck.example"])
    assert result.links == [
        "https://bücher.example/straße?q=ä&r=1",
        "https://acme.example/café/%C3%A9",
        "https://例え.jp/パス",
    ]
    assert parse(result.html).hrefs == [
        fake_link("https://bücher.example/straße?q=ä&r=1"),
        fake_link("https://acme.example/café/%C3%A9"),
        "https://xn--trck-roa.example/c/k/x",
        fake_link("https://例え.jp/パス"),
    ]


# Tabs and newlines inside an href, and controls or spaces around it, are dropped as browsers
# drop them, so a target with those is checked without them.
_BROWSER_TRIM = "".join(map(chr, range(0x21)))
UNREDIRECTABLE = [
    url
    for url in BAD_TARGETS
    if url == url.strip(_BROWSER_TRIM) and not any(c in url for c in "\t\r\n")
]


@pytest.mark.parametrize("url", UNREDIRECTABLE)
def test_links_the_redirect_cannot_send_are_left_as_written(url: str) -> None:
    good = "https://bücher.example/ä?q=ü"
    body = f'<p><a href="{escape(url, quote=True)}">bad</a> <a href="{good}">good</a></p>'
    result = track(body)
    assert result.links == [good]
    assert result.html == body.replace(good, tracked_href(good)) + PIXEL_TAG


def test_links_are_deduplicated_in_first_occurrence_order() -> None:
    body = "".join(f'<a href="https://acme.example/{name}">{name}</a>' for name in "cabcbaCc")
    assert track(body).links == [f"https://acme.example/{n}" for n in "cabC"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>x</p>", f"<p>x</p>{PIXEL_TAG}"),
        ("<body>x</BODY >\n", f"<body>x{PIXEL_TAG}</BODY >\n"),
        ("<body>x<!-- </body> --></body>", f"<body>x<!-- </body> -->{PIXEL_TAG}</body>"),
        ("<body>a<blockquote><body>b</body></blockquote>c</body>", None),
        ("<body/>x", f"<body/>x{PIXEL_TAG}"),
    ],
)
def test_pixel_goes_before_the_last_real_closing_body(body: str, expected: str | None) -> None:
    html = track(body).html
    if expected is None:
        assert html == body.removesuffix("</body>") + PIXEL_TAG + "</body>"
    else:
        assert html == expected
    assert "display:none" not in html


@pytest.mark.parametrize("body", [GMAIL_BODY, QUOTED_REPLY, UNTOUCHED, "", "plain text"])
def test_tracking_twice_changes_nothing(body: str) -> None:
    once = track(body)
    twice = track(once.html)
    assert twice.html == once.html
    assert twice.links == []
    assert once.html.count(PIXEL) == 1


def test_same_pixel_on_a_host_we_were_not_told_about_is_still_not_doubled() -> None:
    pixel = "https://elsewhere.example/o/k.m.s.gif"
    once = track_html("<p>x</p>", pixel, fake_link, OWN).html
    assert track_html(once, pixel, fake_link, OWN).html == once
    assert once.count(pixel) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("x <!-- never closed", f"x {PIXEL_TAG}<!-- never closed"),
        ('x <a href="https://acme.example/', f'x {PIXEL_TAG}<a href="https://acme.example/'),
        ("<p>x</p><script>var a = 1", f"<p>x</p>{PIXEL_TAG}<script>var a = 1"),
        ("x <?", f"x {PIXEL_TAG}<?"),
        ("<p>x</p><!-- y > </body>", f"<p>x</p>{PIXEL_TAG}<!-- y > </body>"),
        ("<body>y</body><!-- z", f"<body>y{PIXEL_TAG}</body><!-- z"),
        ("Sam, R&D", f"Sam, R&D{PIXEL_TAG}"),
    ],
)
def test_pixel_is_not_swallowed_by_unfinished_markup_at_the_end(body: str, expected: str) -> None:
    assert track(body).html == expected
    assert track(expected).html == expected


def test_removing_a_pixel_does_not_let_a_stray_less_than_open_a_comment() -> None:
    body = 'a <<img src="https://t.example/o/k.m.s.gif">!-- <a href="https://acme.example/x">x</a>'
    result = track(body)
    assert result.links == ["https://acme.example/x"]
    assert result.html.startswith("a &lt;!-- <a href=")
    assert parse(result.html).hrefs == [fake_link("https://acme.example/x")]


def test_malformed_marked_section_is_a_bogus_comment_not_an_error() -> None:
    body = (
        '<![foo[ <a href="https://acme.example/hidden"> ]]>\n<a href="https://acme.example/after">'
    )
    result = track(body)
    assert result.links == ["https://acme.example/after"]
    assert (
        result.html
        == body.replace("https://acme.example/after", tracked_href("https://acme.example/after"))
        + PIXEL_TAG
    )


# Property tests: arbitrary text mixed with realistic fragments never raises and loses no link.

_HOSTS = ["acme.example", "ACME.example:8080", "bücher.example", "t.example", "localhost:5000"]
_PATHS = st.text(st.characters(min_codepoint=0x21, exclude_categories=("Cs",)), max_size=12)


@st.composite
def _anchor(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "mailto", "tel"]))
    url = f"{scheme}://{draw(st.sampled_from(_HOSTS))}/{draw(_PATHS)}"
    value = escape(url, quote=True)
    quoting = draw(st.sampled_from(["'", '"', ""]))
    if not quoting and any(c in value for c in "=<`&"):
        quoting = '"'
    tag, attr = draw(st.sampled_from([("a", "href"), ("A", "HREF"), ("area", "href")]))
    space = draw(st.sampled_from([" ", "\n  ", "\t"]))
    return f"<{tag}{space}{attr}={quoting}{value}{quoting}>"


_FRAGMENTS = st.one_of(
    st.text(max_size=20),
    _anchor(),
    st.sampled_from(
        [
            "</a>",
            "</body>",
            "<body>",
            "<!-- ",
            " -->",
            "<script>",
            "</script>",
            "<![foo[",
            "<",
            "&amp;",
            "'",
            '"',
            '<img src="https://t.example/o/k.m.s.gif">',
            "<img src='https://ci3.googleusercontent.com/meips/A=s0#https://t.example/o/a.gif'>",
            '<img src="https://cdn.acme.example/logo.png">',
        ]
    ),
)


def _oracle(href: str) -> str | None:
    """What an input href must become: None unless it is an absolute, redirectable http(s) link."""
    try:
        parts = urlsplit(href)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if not targets.is_redirectable(href):
        return None  # tests/common/test_targets.py pins which these are
    default = 443 if parts.scheme == "https" else 80
    own = (parts.hostname, port or default) in {("t.example", default), ("localhost", 5000)}
    return href if own else fake_link(href)


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(needle == item for item in remaining) for needle in needles)


def _assert_no_link_lost(body: str) -> None:
    result = track(body)
    before = [_oracle(h) for h in parse(body).hrefs]
    expected = [h for h in before if h is not None]
    after = [h for h in parse(result.html).hrefs if _oracle(h) is not None]
    assert _is_subsequence(expected, after)
    targets = [unquote(h.removeprefix(CLICK)) for h in expected if h.startswith(CLICK)]
    assert result.links == list(dict.fromkeys(targets))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises_and_loses_no_link(text: str) -> None:
    assert PIXEL_TAG in track(text).html
    _assert_no_link_lost(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=25).map("".join))
def test_no_http_link_is_lost(body: str) -> None:
    _assert_no_link_lost(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=25).map("".join))
def test_exactly_one_visible_pixel_and_a_second_run_changes_nothing(body: str) -> None:
    once = track(body).html
    images = parse(once).images
    assert images.count(PIXEL) == 1
    assert not [src for src in images if "t.example/o/" in src and src != PIXEL]
    assert track(once).html == once
