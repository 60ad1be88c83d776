"""The SSRF guard: where a webhook may be sent, decided on the address actually connected to.

A URL is accepted only when it is http or https, carries no user name or password, and every
address its host resolves to is public. The addresses are resolved once (`resolve`, the one
function tests replace) and the connection goes to the checked address, so a name that answers
differently the second time (DNS rebinding) cannot redirect the request. Refused unless the
endpoint or the server allows the range explicitly: loopback, private (RFC 1918, unique local),
link-local, shared address space (CGNAT, 100.64.0.0/10), and anything else not globally
routable. Never allowed, whatever the allowance: multicast and cloud metadata addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services (AWS, GCP, Azure, OpenStack; AWS over IPv6 and ECS task metadata;
# Alibaba; Oracle): a request there can hand out the server's cloud credentials.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.253",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
SCHEMES = {"http": 80, "https": 443}


class Refused(ValueError):
    """The URL or one of its addresses may not be sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked destination: the URL's parts and the one address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def networks(text: str) -> tuple[Network, ...]:
    """The CIDRs of a comma-separated allowance ("" for none); raises ValueError on a bad one."""
    items = [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def refusal(text: str, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why a connection to the address `text` is refused, or None when it may go."""
    address: Address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if any(address.version == n.version and address in n for n in allowed):
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.version == 4 and address in CGNAT:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def check(url: str, allowed: tuple[Network, ...] = ()) -> Target:
    """The checked destination of `url`; raises Refused (never connects anywhere)."""
    scheme, host, port, path = split(url)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise Refused(f"the host does not resolve ({exc.__class__.__name__})") from None
    if not addresses:
        raise Refused("the host does not resolve")
    for address in addresses:
        reason = refusal(address, allowed)
        if reason:
            # Every answer is checked: one public answer must not carry a private one along.
            raise Refused(f"the host resolves to {reason} ({address})")
    return Target(scheme, host, port, path, addresses[0])


def written_refusal(url: str, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why `url` is refused by what its host says without resolving: an address in any numeric
    form (0x7f000001 too) or a localhost name; None when only resolving can tell."""
    host = split(url)[1]
    if host == "localhost" or host.endswith(".localhost"):
        address = "127.0.0.1"  # names that are loopback by definition (RFC 6761)
    else:
        try:
            infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
        except (OSError, ValueError):  # a name (UnicodeError is a ValueError), or unusable
            return None
        address = infos[0][4][0]
    reason = refusal(address, allowed)
    return f"the host is {reason} ({address})" if reason else None


def split(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; raises Refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"a malformed URL: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise Refused("not an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise Refused("a URL with a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("a URL without a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or SCHEMES[parts.scheme], path
