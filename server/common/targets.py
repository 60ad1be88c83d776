"""Redirect targets: the one conversion from a click's target URL to the redirect's Location.

Signing a link and answering its redirect both go through `location`, so a link is signed only
if the redirect can send it, and the redirect never meets a target it cannot encode. A target
is accepted when:

- it is http or https, has no control character, and its UTF-8 fits `MAX_BYTES`;
- it carries no user name or password (`user@host`): browsers answer those with a warning or
  refuse them, and a redirect would copy a credential into a header;
- its host is a DNS name, a dotted-quad IPv4 address or a bracketed IPv6 address. A name is
  mapped and encoded as browsers do (UTS #46, non-transitional: `ß` stays `ß`, then punycode
  under IDNA 2008); each label, once encoded, is 1 to 63 letters, digits, hyphens or underscores,
  the whole name at most 253. A name whose last label is a number is read as IPv4, as browsers
  read it, so it must be a whole dotted quad;
- its port, if any, is ASCII digits between 1 and 65535.

The path, query and fragment are percent-encoded as UTF-8 where they are not plain URI text
(a space becomes `%20`), as a browser does when it follows the link.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

import idna

MAX_BYTES = 6144  # its unpadded base64 is 8192 characters, the longest signed target
MAX_LOCATION = 8192
SCHEMES = frozenset({"http", "https"})
MAX_NAME = 253

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
# WHATWG's "ends in a number": such a host goes to the IPv4 parser, never to DNS.
_NUMERIC = re.compile(r"[0-9]+|0x[0-9a-f]*")
# The characters werkzeug's iri_to_uri leaves as they are in each part.
_PATH_SAFE = "%!$&'()*+,/:;=@"
_QUERY_SAFE = "%!$&'()*+,/:;=?@"
_FRAGMENT_SAFE = "%!#$&'()*+,/:;=?@"


class BadTarget(ValueError):
    """A target URL the redirect cannot send; the message says why."""


def location(url: str) -> str:
    """The exact Location header value the redirect sends for `url`; raises BadTarget."""
    try:
        size = len(url.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadTarget("not encodable as UTF-8") from None
    if size > MAX_BYTES:
        raise BadTarget(f"longer than {MAX_BYTES} bytes")
    if _CONTROL.search(url):
        raise BadTarget("a control character")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadTarget(f"malformed: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise BadTarget("not an http or https URL")
    path = quote(parts.path, safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    fragment = quote(parts.fragment, safe=_FRAGMENT_SAFE)
    result = urlunsplit((parts.scheme, _netloc(parts.netloc), path, query, fragment))
    if len(result) > MAX_LOCATION:
        raise BadTarget(f"longer than {MAX_LOCATION} characters once encoded")
    return result


def is_redirectable(url: str) -> bool:
    """Whether the redirect can send `url` (exactly when `location` does not raise)."""
    try:
        location(url)
    except BadTarget:
        return False
    return True


def _netloc(netloc: str) -> str:
    if "@" in netloc:
        raise BadTarget("a user name or password")
    host, port = _split_port(netloc)
    return _host(host) + ("" if port is None else f":{port}")


def _split_port(netloc: str) -> tuple[str, int | None]:
    """The host and the port of `host[:port]`; an empty port is no port, as browsers read it."""
    if netloc.startswith("["):
        end = netloc.find("]") + 1
        host, rest = netloc[:end], netloc[end:]
        if not end or (rest and not rest.startswith(":")):
            raise BadTarget("a malformed IPv6 address")
        port = rest[1:]
    else:
        host, _, port = netloc.partition(":")
    if not port:
        return host, None
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise BadTarget("a port that is not a number from 1 to 65535")
    return host, int(port)


def _host(host: str) -> str:
    """The host as the Location carries it: IDNA-encoded name, IPv4 or bracketed IPv6."""
    if host.startswith("["):
        return _ipv6(host[1:-1])
    if not host.isascii():
        try:
            host = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except (idna.IDNAError, UnicodeError) as exc:
            raise BadTarget(f"a host IDNA cannot map: {exc}") from None
    labels = host.lower().split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # the root's empty label: "example.com." is a fully qualified name
        trailing = "."
    else:
        trailing = ""
    name = ".".join(_label(label) for label in labels)
    if len(name) > MAX_NAME:
        raise BadTarget(f"a host name longer than {MAX_NAME} characters")
    if _NUMERIC.fullmatch(labels[-1]):
        return _ipv4(name)
    return name + trailing


def _label(label: str) -> str:
    if not label.isascii():
        try:
            label = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise BadTarget(f"a host label IDNA cannot encode: {exc}") from None
    if not _LABEL.fullmatch(label):
        raise BadTarget(f"a host label that is empty, too long or not a DNS label: {label!r}")
    return label


def _ipv4(name: str) -> str:
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        raise BadTarget("a numeric host that is not a dotted-quad IPv4 address") from None


def _ipv6(text: str) -> str:
    # No zone id ("%25eth0"): browsers refuse them, and a link-local address means nothing to
    # the recipient. IPvFuture ("[v1.x]") is refused the same way.
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise BadTarget("a malformed IPv6 address") from None
    if address.scope_id is not None:
        raise BadTarget("an IPv6 zone id")
    return f"[{address.compressed}]"
