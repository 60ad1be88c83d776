"""Turn an outgoing HTML mail body into a tracked one.

`track_html` sends every absolute http(s) link the redirect can send (common/targets.py) through
the click redirect, appends the open pixel (each part can be left out: a message may track opens
only, or links only) and drops open pixels of ours that came along in
quoted replies and forwards (otherwise reading the reply would count as an open of the earlier
message). A link the redirect could not send is left as written.

The body is never re-serialised. Mail clients write loose HTML that a round trip through a parser
would quietly change, so html.parser is only asked *where* each tag is, and the few new attribute
values are spliced into the original text; every other byte stays as the client wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import SplitResult, urljoin, urlsplit

from server.common import targets

PIXEL_TAG = '<img src="{}" width="1" height="1" alt="" style="width:1px;height:1px;border:0;" />'

_WATCHED = frozenset({"a", "area", "img", "base"})
_LINK_TAGS = frozenset({"a", "area"})
# The grammar html.parser itself uses for a start tag's name and attributes (its "tolerant"
# patterns), restated here so our value spans agree with its parse without importing its internals.
_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*(?:\s|/(?!>))*")
_ATTR = re.compile(
    r"((?<=['\"\s/])[^\s/>][^\s/=>]*)"
    r"(\s*=+\s*('[^']*'|\"[^\"]*\"|(?!['\"])[^>\s]*))?(?:\s|/(?!>))*"
)
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
# Browsers strip C0 controls and spaces around a URL and drop tabs and newlines inside it.
_URL_TRIM = "".join(map(chr, range(0x21)))
_URL_DROP = str.maketrans("", "", "\t\n\r")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_GMAIL_PROXY_SUFFIX = ".googleusercontent.com"

_Edit = tuple[int, int, str]
_HostKey = tuple[str, int | None]


@dataclass(frozen=True)
class Tracked:
    """A tracked body, and the original targets of the links rewritten in it, in body order."""

    html: str
    links: list[str]


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str
    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


class _Scanner(HTMLParser):
    """Finds the tags we care about, and each `</body>`, as offsets into the original text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self._text = text
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self.tags: list[_Tag] = []
        self.body_ends: list[int] = []
        self.raw_text_start = 0  # where the latest <script> or <style> start tag begins
        self.unfinished = len(text)  # where unfinished markup at the very end begins, if any

    def _here(self) -> int:
        # getpos() counts lines by "\n" alone, exactly as _line_starts does.
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember a watched tag's exact source text and where it starts."""
        if tag in self.CDATA_CONTENT_ELEMENTS:
            self.raw_text_start = self._here()
        if tag in _WATCHED:
            text, start = self.get_starttag_text() or "", self._here()
            # Never splice at a position the source does not confirm.
            if text and self._text.startswith(text, start):
                self.tags.append(_Tag(tag, start, text))

    def handle_endtag(self, tag: str) -> None:
        """Remember where each real `</body>` starts (not `<body/>`, not one inside a comment)."""
        start = self._here()
        if tag == "body" and self._text.startswith("</", start):
            self.body_ends.append(start)

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """Read `<![...` as browsers do in HTML content: a bogus comment up to the next `>`."""
        # The base class would expect SGML marked sections and raise on anything else.
        return self.parse_bogus_comment(i, report)


def _scan(text: str) -> _Scanner:
    scanner = _Scanner(text)
    scanner.feed(text)
    # feed() keeps back what it cannot finish yet: a tag, comment or declaration that never
    # closes, or the inside of an unclosed <script>/<style>. Browsers swallow anything written
    # after such an opening, so the pixel must go before it (close() then reads it as text).
    if scanner.cdata_elem:
        scanner.unfinished = scanner.raw_text_start
    elif scanner.rawdata.startswith("<"):
        scanner.unfinished = len(text) - len(scanner.rawdata)
    scanner.close()
    return scanner


def _attribute(tag: _Tag, name: str) -> tuple[str, int, int] | None:
    """The raw value (quotes included) of the tag's first `name` attribute, and its span."""
    match = _TAG_NAME.match(tag.text)
    position = match.end() if match else len(tag.text)
    while position < len(tag.text):
        match = _ATTR.match(tag.text, position)
        if match is None:
            break
        if match.group(1).lower() == name:
            # Browsers use the first occurrence; a valueless one means an empty value.
            if match.group(2) is None:
                return None
            start, end = match.span(3)
            return match.group(3), tag.start + start, tag.start + end
        position = match.end()
    return None


def _value(raw: str) -> str:
    """An attribute's value without its quotes, character references decoded, URL-trimmed."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        raw = raw[1:-1]
    return unescape(raw).strip(_URL_TRIM).translate(_URL_DROP)


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # urlsplit checks the port only when asked; ask now
    except ValueError:
        return None
    return parts


def _host(name: str) -> str:
    """A hostname in one comparable form: lower case, no trailing dot, IDNA (punycode)."""
    name = name.lower().rstrip(".")
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _own_hosts(hosts: Iterable[str]) -> frozenset[_HostKey]:
    """Parse `host[:port]` strings (a scheme is tolerated) into comparable keys."""
    keys: set[_HostKey] = set()
    for entry in hosts:
        entry = entry.strip()
        parts = _split(entry if "//" in entry else "//" + entry)
        if parts is not None and parts.hostname:
            keys.add((_host(parts.hostname), parts.port))
    return frozenset(keys)


def _is_own(parts: SplitResult, own: frozenset[_HostKey]) -> bool:
    host, port = _host(parts.hostname or ""), parts.port
    default = _DEFAULT_PORTS.get(parts.scheme)
    # A URL without a port, or with its scheme's default one, matches "t.example" as well as
    # "t.example:443" (https) or "t.example:80" (http).
    if port is None or port == default:
        return (host, None) in own or (host, default) in own
    return (host, port) in own


def _is_our_pixel(src: str, own: frozenset[_HostKey]) -> bool:
    """Whether an image source is an open pixel of ours, directly or through Gmail's proxy."""
    parts = _split(src)
    if parts and (parts.hostname or "").endswith(_GMAIL_PROXY_SUFFIX) and parts.fragment:
        # Gmail's image proxy appends the original address after a "#".
        parts = _split(parts.fragment)
    if parts is None or not parts.hostname:
        return False
    return parts.path.startswith("/o/") and _is_own(parts, own)


def _base_url(tags: list[_Tag]) -> str | None:
    """The first `<base href>`, if it is absolute http(s); a relative one cannot be resolved."""
    for tag in tags:
        found = _attribute(tag, "href") if tag.name == "base" else None
        if found is not None:
            base = _value(found[0])
            parts = _split(base)
            usable = parts is not None and parts.scheme in _DEFAULT_PORTS and parts.hostname
            return base if usable else None
    return None


def _target(href: str, base: str | None, own: frozenset[_HostKey]) -> str | None:
    """The absolute http(s) URL a link is tracked as, or None to leave the link alone."""
    if not href or href.startswith("#"):
        return None
    if not _SCHEME.match(href):
        if base is None:
            return None
        try:
            href = urljoin(base, href)
        except ValueError:
            return None
    parts = _split(href)
    if parts is None or parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    # A link the redirect could not send stays as written: signed, it would only reach a 404.
    if _is_own(parts, own) or not targets.is_redirectable(href):
        return None
    return href


def _link_edits(
    tags: list[_Tag], own: frozenset[_HostKey], link_url: Callable[[str], str]
) -> tuple[list[str], list[_Edit]]:
    """New href values for every trackable link, and the distinct targets in body order."""
    base = _base_url(tags)
    tracked: dict[str, str] = {}
    edits: list[_Edit] = []
    for tag in tags:
        found = _attribute(tag, "href") if tag.name in _LINK_TAGS else None
        target = _target(_value(found[0]), base, own) if found else None
        if found is None or target is None:
            continue
        if target not in tracked:
            tracked[target] = link_url(target)
        raw, start, end = found
        quote = raw[0] if raw[:1] in ("'", '"') else '"'
        edits.append((start, end, quote + escape(tracked[target], quote=True) + quote))
    return list(tracked), edits


def _pixel_edits(text: str, tags: list[_Tag], is_pixel: Callable[[str], bool]) -> list[_Edit]:
    """Removals of the image tags that `is_pixel` recognises by their source."""
    edits: list[_Edit] = []
    for tag in tags:
        found = _attribute(tag, "src") if tag.name == "img" else None
        if found is None or not is_pixel(_value(found[0])):
            continue
        edits.append(_at_tag_boundary(text, tag.start, tag.end, ""))
    return edits


def _at_tag_boundary(text: str, start: int, end: int, replacement: str) -> _Edit:
    """An edit that removes or adds a tag at `start`, writing a bare "<" just before it as "&lt;".

    Such a "<" is text only because a tag follows it: once our pixel is gone it could open a
    comment or a tag with whatever comes next. Escaping it when adding the pixel too keeps a
    second run identical to the first.
    """
    if start and text[start - 1] == "<":
        return start - 1, end, "&lt;" + replacement
    return start, end, replacement


def _apply(text: str, edits: list[_Edit]) -> str:
    """Splice non-overlapping (start, end, replacement) edits into `text`."""
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in sorted(edits):
        pieces += (text[cursor:start], replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def strip_pixels(html: str, own_hosts: Iterable[str]) -> str:
    """Remove open pixels of ours (direct or Gmail-proxied) from a body, leaving all else as is."""
    own = _own_hosts(own_hosts)
    return _apply(html, _pixel_edits(html, _scan(html).tags, lambda src: _is_our_pixel(src, own)))


def track_html(
    html: str,
    pixel_url: str | None,
    link_url: Callable[[str], str] | None,
    own_hosts: Iterable[str],
) -> Tracked:
    """Append the open pixel, rewrite http(s) links via `link_url`, strip our earlier pixels.

    Without `pixel_url` (opens not tracked) no pixel is added; without `link_url` (links not
    tracked) every link stays as written. Our earlier pixels are stripped either way.
    """
    own = _own_hosts(own_hosts)
    scan = _scan(html)
    # Matching `pixel_url` itself keeps a second run idempotent even if its host is not listed.
    edits = _pixel_edits(html, scan.tags, lambda src: src == pixel_url or _is_our_pixel(src, own))
    links: list[str] = []
    if link_url is not None:
        links, link_edits = _link_edits(scan.tags, own, link_url)
        edits += link_edits
    if pixel_url is not None:
        # The last </body>, since a forward may quote a whole document; one that close() only
        # found inside unfinished markup is no real end tag.
        ends = [end for end in scan.body_ends if end < scan.unfinished]
        at = ends[-1] if ends else scan.unfinished
        edits.append(
            _at_tag_boundary(html, at, at, PIXEL_TAG.format(escape(pixel_url, quote=True)))
        )
    return Tracked(_apply(html, edits), links)
