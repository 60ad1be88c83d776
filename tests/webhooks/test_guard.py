"""The SSRF guard: every refused kind of address, by literal and through a resolver the test
controls (the guard's `resolve`), and the connection going to the address that was checked."""

from __future__ import annotations

import pytest

from server.webhooks import guard, transport
from tests.webhooks.conftest import Receiver

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.9": "private",
    "192.168.1.1": "private",
    "fd12:3456::1": "private",
    "169.254.10.10": "link-local",
    "fe80::1": "link-local",
    "100.64.0.1": "CGNAT",
    "100.127.255.254": "CGNAT",
    "224.0.0.251": "multicast",
    "239.1.2.3": "multicast",
    "ff02::1": "multicast",
    "169.254.169.254": "metadata",
    "fd00:ec2::254": "metadata",
    "100.100.100.200": "metadata",
    "0.0.0.0": "unspecified",
    "192.0.2.7": "private",  # documentation range: Python counts it private
    "198.18.0.1": "private",  # benchmarking range
}


@pytest.fixture
def resolving(monkeypatch):
    """Make every host name resolve to the given addresses; records the calls."""
    calls = []

    def use(*answers):
        def resolve(host, port):
            calls.append(host)
            return list(answers[min(len(calls), len(answers)) - 1])

        monkeypatch.setattr(guard, "resolve", resolve)
        return calls

    return use


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_every_special_address_is_refused_as_a_literal(address):
    assert REFUSED[address] in guard.refusal(address)
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(guard.Refused):
        guard.check(f"https://{host}/hook")


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_a_name_resolving_to_a_special_address_is_refused(resolving, address):
    resolving([address])
    with pytest.raises(guard.Refused, match="resolves to"):
        guard.check("https://hooks.example.test/in")


def test_one_bad_answer_among_public_ones_refuses_the_name(resolving):
    resolving(["93.184.216.34", "10.0.0.5"])
    with pytest.raises(guard.Refused, match="private"):
        guard.check("https://hooks.example.test/in")


def test_a_public_name_passes_and_keeps_the_checked_address(resolving):
    resolving(["93.184.216.34"])
    target = guard.check("https://hooks.example.test:8443/in?x=1")
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.test", 8443, "/in?x=1", "93.184.216.34",
    )  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.test/",
        "file:///etc/passwd",
        "gopher://hooks.example.test/",
        "javascript:alert(1)",
        "https://user:pw@hooks.example.test/",
        "https:///nohost",
        "https://hooks.example.test:99999/",
    ],
)
def test_only_plain_http_and_https_urls(url):
    with pytest.raises(guard.Refused):
        guard.check(url)


def test_an_allowance_opens_its_range_only():
    allowed = guard.networks("127.0.0.1/32, 10.0.0.0/8")
    assert guard.refusal("127.0.0.1", allowed) is None
    assert guard.refusal("10.200.0.1", allowed) is None
    assert "loopback" in guard.refusal("127.0.0.2", allowed)
    assert "private" in guard.refusal("192.168.0.1", allowed)
    # Metadata and multicast stay refused, whatever the allowance says.
    wide = guard.networks("169.254.0.0/16, 224.0.0.0/4, fd00::/8")
    assert "metadata" in guard.refusal("169.254.169.254", wide)
    assert "metadata" in guard.refusal("fd00:ec2::254", wide)
    assert "multicast" in guard.refusal("224.0.0.1", wide)


def test_a_name_rebinding_after_the_check_still_reaches_the_checked_address(resolving):
    """The first answer (allowed) is the one connected to; later answers are never asked for,
    so a name that turns into another address after the check changes nothing."""
    receiver = Receiver()
    try:
        calls = resolving(["127.0.0.1"], ["127.0.0.2"])
        url = f"http://rebind.example.test:{receiver.port}/in"
        target = guard.check(url, guard.networks("127.0.0.1/32"))
        outcome = transport.post(target, {"Content-Type": "application/json"}, b"{}", 5.0)
        assert outcome.status == 204
        assert calls == ["rebind.example.test"]
        headers, _ = receiver.requests[0]
        assert headers["Host"] == f"rebind.example.test:{receiver.port}"
        # Asked again, the name answers 127.0.0.2, outside the allowance: refused.
        with pytest.raises(guard.Refused, match="loopback"):
            guard.check(url, guard.networks("127.0.0.1/32"))
    finally:
        receiver.stop()


def test_loopback_without_the_allowance_never_connects():
    receiver = Receiver()
    try:
        with pytest.raises(guard.Refused):
            guard.check(receiver.url)
        assert receiver.requests == []
    finally:
        receiver.stop()


def test_https_verifies_the_certificate_against_the_urls_name(resolving, test_authority):
    """Pinned to the checked address, TLS still checks the URL's host: a certificate for
    127.0.0.1 passes for https://127.0.0.1 and fails for a name that resolves there."""
    receiver = Receiver(tls=test_authority.server_context())
    allowed = guard.networks("127.0.0.1/32")
    context = test_authority.client_context()
    try:
        target = guard.check(receiver.url, allowed)
        outcome = transport.post(target, {}, b"{}", 5.0, context)
        assert outcome.status == 204 and len(receiver.requests) == 1
        resolving(["127.0.0.1"])
        other = guard.check(f"https://hooks.example.test:{receiver.port}/in", allowed)
        failed = transport.post(other, {}, b"{}", 5.0, context)
        assert failed.status is None and failed.error.startswith("TLS failed")
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()


def test_a_receiver_that_never_answers_times_out():
    import socket

    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog), never answers
    try:
        port = silent.getsockname()[1]
        target = guard.check(f"http://127.0.0.1:{port}/", guard.networks("127.0.0.1/32"))
        outcome = transport.post(target, {}, b"{}", 0.5)
        assert (outcome.status, outcome.error) == (None, "timed out")
        assert outcome.latency_ms < 5000
    finally:
        silent.close()


def test_a_redirect_is_not_followed_and_a_huge_answer_is_cut(monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            if self.path == "/moved":
                self.send_response(307)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(1000):  # 8 MB unless the client stops reading
                    self.wfile.write(b"x" * 8192)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 16 * 1024)
    read = []
    original = transport._drain

    def drain(response, deadline):
        reader = response.read

        def counted(amount):
            chunk = reader(amount)
            read.append(len(chunk))
            return chunk

        response.read = counted
        original(response, deadline)

    monkeypatch.setattr(transport, "_drain", drain)
    try:
        allowed = guard.networks("127.0.0.1/32")
        base = f"http://127.0.0.1:{server.server_address[1]}"
        moved = transport.post(guard.check(base + "/moved", allowed), {}, b"{}", 5.0)
        assert moved.status == 307 and not moved.ok
        assert hits == ["/moved"]  # /elsewhere never asked for
        big = transport.post(guard.check(base + "/big", allowed), {}, b"{}", 5.0)
        assert big.ok and sum(read) == 16 * 1024  # the cap, of an 8 MB answer
    finally:
        server.shutdown()
        server.server_close()
