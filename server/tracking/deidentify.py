"""Client addresses, kept only as much as the analytics need.

The raw address lives in memory for one request: the view finds it with `client_ip` (trusting
`X-Forwarded-For` only from configured proxies), derives the location from it, and then stores only
`truncate_ip` (/24 for IPv4, /48 for IPv6) and, for counting distinct devices, `IpHasher.hash`: a
keyed hash under a random key per period, deleted when the period ends, so stored hashes cannot be
linked across periods, nor, once their period is over, tested against the 256 addresses a /24
leaves (or any other).
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Callable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HASH_HEX_CHARS = 32  # 128 bits: collisions are negligible at any realistic number of devices


_MAPPED = b"\0" * 10 + b"\xff\xff"


def _packed(text: str | None) -> bytes | None:
    """The address's 4 or 16 bytes (IPv4-mapped IPv6 as IPv4), via the C parser: the hot path."""
    if not isinstance(text, str) or not text or "\x00" in text:
        return None
    try:
        return socket.inet_pton(socket.AF_INET, text)
    except OSError:
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, text.strip().partition("%")[0])
    except (OSError, UnicodeEncodeError):
        address = parse_ip(text)  # spellings only ipaddress takes, such as surrounding spaces
        return address.packed if address is not None else None
    return packed[12:] if packed[:12] == _MAPPED else packed


def _text(packed: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


def parse_ip(text: str | None) -> Address | None:
    """The address in `text` (no port), with IPv4-mapped IPv6 as IPv4; None if it is not one."""
    if not isinstance(text, str):
        return None
    # A zone id ("fe80::1%eth0") names an interface on the server, not part of the client.
    text = text.strip().partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; one client, one form.
        return address.ipv4_mapped
    return address


def _hop(text: str) -> bytes | None:
    """An X-Forwarded-For entry, which some proxies write with a port: "a.b.c.d:p", "[v6]:p"."""
    text = text.strip().strip('"')
    if text.startswith("["):
        host, bracket, _ = text[1:].partition("]")
        return _packed(host) if bracket else None
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return _packed(text)


_TABLES: dict[int, tuple] = {}


def _trust_table(trusted: tuple) -> tuple[tuple[int, int, int], ...]:
    """(address bits, prefix length, network as an integer shifted right) per trusted network,
    worked out once per settings tuple (hashing network objects on every hit costs more)."""
    cached = _TABLES.get(id(trusted))
    if cached is not None and cached[0] is trusted:
        return cached[1]
    table = tuple(
        (n.max_prefixlen, n.prefixlen, int(n.network_address) >> (n.max_prefixlen - n.prefixlen))
        for n in trusted
    )
    _TABLES[id(trusted)] = (trusted, table)
    return table


def _is_trusted(packed: bytes, table: tuple[tuple[int, int, int], ...]) -> bool:
    # Integer prefix comparisons: the hot path checks every forwarded hop this way.
    bits = len(packed) * 8
    value = int.from_bytes(packed, "big")
    for b, length, net in table:  # noqa: SIM110 - a plain loop: any() over a generator is slower
        if b == bits and value >> (bits - length) == net:
            return True
    return False


def client_ip(remote_addr: str | None, forwarded_for: str | None, trusted: tuple) -> str | None:
    """The client's address: X-Forwarded-For is honoured only when the peer is a trusted proxy."""
    packed = _client(remote_addr, forwarded_for, trusted)
    return _text(packed) if packed is not None else None


def _client(remote_addr: str | None, forwarded_for: str | None, trusted: tuple) -> bytes | None:
    peer = _packed(remote_addr)
    if peer is None or not (forwarded_for and trusted):
        return peer
    table = _trust_table(trusted)
    nearest = peer
    if _is_trusted(peer, table):
        # Each proxy appends the address it received from, so only the entries right of the
        # first untrusted hop were written by our proxies; anything further left is the client's
        # word and can be forged.
        for entry in reversed(forwarded_for.split(",")):
            hop = _hop(entry)
            if hop is None:
                # A trusted proxy passed on something unparseable: nothing left of it can be
                # relied on, so the last address we could vouch for stands in for the client.
                break
            nearest = hop
            if not _is_trusted(hop, table):
                break
    return nearest


def address_value(text: str | None) -> tuple[int, int] | None:
    """(IP version, the address as an integer), parsed with the C parser; None if not one."""
    packed = _packed(text)
    if packed is None:
        return None
    return (4 if len(packed) == 4 else 6), int.from_bytes(packed, "big")


def truncate_ip(ip: str | None) -> str | None:
    """The address with host bits cleared (/24 for IPv4, /48 for IPv6); None if it is not one."""
    packed = _packed(ip)
    return _block(packed) if packed is not None else None


def _block(packed: bytes) -> str:
    return _text(packed[:3] + b"\0" if len(packed) == 4 else packed[:6] + b"\0" * 10)


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted: tuple
) -> tuple[str, str] | None:
    """`client_ip` and its `truncate_ip` block together, parsing the address once."""
    packed = _client(remote_addr, forwarded_for, trusted)
    return (_text(packed), _block(packed)) if packed is not None else None


def key_period(now: float, rotation_hours: int) -> int:
    """The index of the hash-key period containing unix time `now`."""
    return int(now // (rotation_hours * 3600))


class IpHasher:
    """Keyed hashes of addresses for counting distinct devices; the key changes every period.

    `keys(period)` gives the period's key: a random one shared by all processes and deleted when
    the period ends (ip_keys.StoredKeys), so nothing that outlives the period can recompute a hash.
    """

    def __init__(self, keys: Callable[[int], bytes], rotation_hours: int = 24):
        if isinstance(rotation_hours, bool) or not isinstance(rotation_hours, int):
            raise ValueError(f"rotation_hours must be an integer, not {rotation_hours!r}")
        if rotation_hours < 1:
            raise ValueError(f"rotation_hours must be at least 1, not {rotation_hours}")
        self._keys = keys
        self.rotation_hours = rotation_hours

    def period(self, now: float) -> int:
        """The index of the key period containing unix time `now`."""
        return key_period(now, self.rotation_hours)

    def hash(self, ip: str, now: float) -> str:
        """The 128-bit keyed hash (hex) of `ip` for the period containing `now`.

        Pass the normalised form `client_ip` returns so one device always hashes the same.
        """
        digest = hmac.digest(self._keys(self.period(now)), ip.encode(), "sha256")
        return digest.hex()[:HASH_HEX_CHARS]
