"""Client address resolution, truncation and hashes under a key per period."""

from __future__ import annotations

import hmac
import ipaddress
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.tracking import deidentify as privacy
from server.tracking.deidentify import (
    IpHasher,
    client_address,
    client_ip,
    key_period,
    truncate_ip,
)

TRUSTED = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("127.0.0.1/32"),
    ipaddress.ip_network("fd00::/8"),
)
DAY = 86400


def _normalised(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return str(getattr(address, "ipv4_mapped", None) or address)


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "expected"),
    [
        # Direct connections.
        ("203.0.113.7", None, "203.0.113.7"),
        ("203.0.113.7", "", "203.0.113.7"),
        ("2001:DB8:0:0:0:0:0:1", None, "2001:db8::1"),
        ("::ffff:203.0.113.7", None, "203.0.113.7"),
        ("fe80::1%eth0", None, "fe80::1"),
        # An untrusted peer's X-Forwarded-For is its own claim: ignored.
        ("203.0.113.7", "198.51.100.9", "203.0.113.7"),
        ("203.0.113.7", "10.0.0.3", "203.0.113.7"),
        ("fd00::1", "198.51.100.9", "198.51.100.9"),
        ("fe00::1", "198.51.100.9", "fe00::1"),
        # One trusted proxy.
        ("10.0.0.2", "198.51.100.9", "198.51.100.9"),
        ("127.0.0.1", "198.51.100.9", "198.51.100.9"),
        ("::ffff:10.0.0.2", "198.51.100.9", "198.51.100.9"),
        # The client sent its own X-Forwarded-For; the proxy appended the real peer.
        ("10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        ("10.0.0.2", "10.0.0.66, 198.51.100.9", "198.51.100.9"),
        # A chain of trusted proxies.
        ("10.0.0.2", "198.51.100.9, 10.0.0.5, 10.0.0.3", "198.51.100.9"),
        ("10.0.0.2", "6.6.6.6,198.51.100.9,10.0.0.5", "198.51.100.9"),
        ("fd00::1", "2001:db8::77, fd00::2", "2001:db8::77"),
        # Everything on the way is ours: the furthest hop is the client.
        ("10.0.0.2", "10.0.0.9, 10.0.0.5", "10.0.0.9"),
        # Forms proxies write.
        ("10.0.0.2", " 198.51.100.9 ", "198.51.100.9"),
        ("10.0.0.2", "198.51.100.9:5678", "198.51.100.9"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", "[2001:db8::1]", "2001:db8::1"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
        ("10.0.0.2", "::ffff:198.51.100.9", "198.51.100.9"),
        ("10.0.0.2", '"198.51.100.9"', "198.51.100.9"),
        # Malformed hops: stop at the last address a trusted proxy vouched for.
        ("10.0.0.2", "198.51.100.9, garbage", "10.0.0.2"),
        ("10.0.0.2", "garbage, 10.0.0.5", "10.0.0.5"),
        ("10.0.0.2", "garbage, 198.51.100.9", "198.51.100.9"),
        ("10.0.0.2", "unknown", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.9,", "10.0.0.2"),
        ("10.0.0.2", "[2001:db8::1", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.9/24", "10.0.0.2"),
        ("10.0.0.2", "1.2.3.4.5", "10.0.0.2"),
        # No usable peer address: nothing to vouch for the header either.
        (None, "198.51.100.9", None),
        ("", "198.51.100.9", None),
        ("garbage", "198.51.100.9", None),
        ("203.0.113.7:443", None, None),
    ],
)
def test_client_ip(
    remote_addr: str | None, forwarded_for: str | None, expected: str | None
) -> None:
    assert client_ip(remote_addr, forwarded_for, TRUSTED) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    assert client_ip("10.0.0.2", "198.51.100.9", ()) == "10.0.0.2"


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("203.0.113.0", "203.0.113.0"),
        ("255.255.255.255", "255.255.255.0"),
        (" 203.0.113.77 ", "203.0.113.0"),
        ("::ffff:203.0.113.77", "203.0.113.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"),
        ("2001:DB8:1:FFFF::", "2001:db8:1::"),
        ("2001:db8:1::", "2001:db8:1::"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:ffff::"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("", None),
        (None, None),
        ("garbage", None),
        ("1.2.3", None),
        ("1.2.3.256", None),
        ("01.2.3.4", None),
        ("1.2.3.4/24", None),
        ("1.2.3.4:80", None),
        ("2001:db8::1::2", None),
    ],
)
def test_truncate_ip(ip: str | None, expected: str | None) -> None:
    assert truncate_ip(ip) == expected


@given(st.ip_addresses())
def test_truncation_keeps_only_the_network(address) -> None:
    truncated = truncate_ip(str(address))
    address = ipaddress.ip_address(_normalised(address))  # ::ffff:a.b.c.d is an IPv4 client
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    assert truncated == str(network.network_address)
    assert truncate_ip(truncated) == truncated


@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_client_ip_never_raises(remote_addr: str | None, forwarded_for: str | None) -> None:
    result = client_ip(remote_addr, forwarded_for, TRUSTED)
    assert result is None or ipaddress.ip_address(result)


# Junk that cannot be read as an address: no digits, no colons.
_junk = st.one_of(st.sampled_from(["unknown", "", "[nope]"]), st.text("ghijk xyz!_-[]", max_size=8))
_hop = st.one_of(
    st.ip_addresses(), st.sampled_from(["10.0.0.3", "fd00::9"]).map(ipaddress.ip_address)
)


@given(st.ip_addresses(), st.lists(st.one_of(_hop, _junk), max_size=6))
def test_client_ip_is_the_peer_or_a_forwarded_address(peer, hops: list) -> None:
    header = ", ".join(str(hop) for hop in hops)
    result = client_ip(str(peer), header, TRUSTED)
    addresses = {_normalised(hop) for hop in hops if not isinstance(hop, str)}
    if any(ipaddress.ip_address(_normalised(peer)) in network for network in TRUSTED):
        assert result in addresses | {_normalised(peer)}
    else:
        assert result == _normalised(peer)


@given(st.text())
def test_truncate_ip_never_raises(text: str) -> None:
    result = truncate_ip(text)
    assert result is None or ipaddress.ip_address(result)


class RandomKeys:
    """A key source as the server's (a random key per period), kept in this process only."""

    def __init__(self):
        self.keys: dict[int, bytes] = {}
        self.asked: list[int] = []

    def __call__(self, period: int) -> bytes:
        self.asked.append(period)
        return self.keys.setdefault(period, secrets.token_bytes(32))


def test_hash_is_stable_within_a_period() -> None:
    keys = RandomKeys()
    hasher = IpHasher(keys)
    first = hasher.hash("203.0.113.7", 10 * DAY)
    assert first == hasher.hash("203.0.113.7", 10 * DAY + DAY - 0.001)
    assert first == IpHasher(keys).hash("203.0.113.7", 10 * DAY + 3600)
    assert len(first) == 32
    assert int(first, 16) >= 0


def test_hash_rotates_each_period() -> None:
    hasher = IpHasher(RandomKeys())
    hashes = {hasher.hash("203.0.113.7", day * DAY) for day in range(50)}
    assert len(hashes) == 50
    assert hasher.hash("203.0.113.7", DAY - 0.001) != hasher.hash("203.0.113.7", DAY)


def test_rotation_period_is_configurable() -> None:
    hourly = IpHasher(RandomKeys(), rotation_hours=1)
    assert hourly.hash("203.0.113.7", 0) == hourly.hash("203.0.113.7", 3599)
    assert hourly.hash("203.0.113.7", 3599) != hourly.hash("203.0.113.7", 3600)
    weekly = IpHasher(RandomKeys(), rotation_hours=168)
    assert weekly.hash("203.0.113.7", 0) == weekly.hash("203.0.113.7", 6 * DAY)
    assert weekly.period(6 * DAY) == key_period(6 * DAY, 168) == 0


def test_hash_depends_on_address_and_key() -> None:
    now = 1_700_000_000
    hasher = IpHasher(RandomKeys())
    assert hasher.hash("203.0.113.7", now) != hasher.hash("203.0.113.8", now)
    assert hasher.hash("203.0.113.7", now) != IpHasher(RandomKeys()).hash("203.0.113.7", now)


def test_hash_known_answer() -> None:
    # Pinned: the hash is HMAC-SHA256 of the address under the period's key, cut to 128 bits.
    now = 1_700_000_000
    keys = RandomKeys()
    expected = hmac.digest(keys(now // DAY), b"203.0.113.7", "sha256")[:16].hex()
    assert IpHasher(keys).hash("203.0.113.7", now) == expected


def test_one_hmac_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_digest = hmac.digest

    def counting(key: bytes, msg: bytes, digest: str) -> bytes:
        calls.append(msg)
        return real_digest(key, msg, digest)

    monkeypatch.setattr(privacy.hmac, "digest", counting)
    keys = RandomKeys()
    hasher = IpHasher(keys)
    for host in range(100):
        hasher.hash(f"203.0.113.{host}", 5 * DAY + host)
    assert len(calls) == 100
    assert set(keys.asked) == {5}


def test_hasher_keeps_no_address() -> None:
    hasher = IpHasher(RandomKeys())
    hasher.hash("203.0.113.7", 0)
    assert "203.0.113.7" not in repr(vars(hasher))
    assert b"203.0.113.7" not in repr(vars(hasher)).encode()


@pytest.mark.parametrize("rotation_hours", [0, -1, 1.5, True])
def test_hasher_rejects_bad_configuration(rotation_hours) -> None:
    with pytest.raises(ValueError):
        IpHasher(RandomKeys(), rotation_hours)


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted"),
    [
        ("203.0.113.77", None, ()),
        ("::ffff:203.0.113.77", "198.51.100.1", ()),
        ("10.0.0.2", "81.2.69.142, 10.0.0.9", (ipaddress.ip_network("10.0.0.0/8"),)),
        ("2001:db8:1:2::5", None, ()),
        ("garbage", None, ()),
        (None, "81.2.69.142", (ipaddress.ip_network("10.0.0.0/8"),)),
    ],
)
def test_client_address_agrees_with_client_ip_and_truncate_ip(remote, forwarded, trusted):
    ip = client_ip(remote, forwarded, trusted)
    expected = (ip, truncate_ip(ip)) if ip else None
    assert client_address(remote, forwarded, trusted) == expected
