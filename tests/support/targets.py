"""Click targets the redirect cannot send, the matrix that several test modules share."""

from __future__ import annotations

from server.common.targets import MAX_BYTES

BAD_TARGETS = [
    # Ports
    "http://example.com:99999/",
    "http://example.com:65536/",
    "http://example.com:0/",
    "http://example.com:abc/",
    "http://example.com:-1/",
    "http://example.com:+80/",
    "http://example.com:\uff18\uff10/",  # full-width digits
    "http://example.com:80:80/",
    "http://example.com: 80/",
    # Names IDNA cannot encode, or labels no DNS name has
    "http://" + "a" * 64 + ".example/",
    "http://" + "ü" * 60 + ".example/",  # fits 63 characters, not once punycoded
    "http://" + ".".join(["a" * 63] * 4) + "/",  # 255 characters
    "http://a..example/",
    "http://.example/",
    "http://example..",
    "http://ex\ufffdample.com/",
    "http://i❤.example/",  # a symbol IDNA 2008 disallows
    "http://a\u200db.example/",  # a joiner out of context
    "http://exa mple.com/",
    "http://exa\u3000mple.com/",
    "http://example.com /",
    "http://exa%20mple.com/",
    "http://exa<mple.com/",
    "http://evil.example\\.good.example/",
    "http://exa*mple.com/",
    # Empty hosts
    "http:///path",
    "http://:80/",
    "http:example.com/",
    "https:/example.com/",
    "http://?q",
    "http://#f",
    # Numeric hosts that are not a whole dotted quad (browsers read them as IPv4)
    "http://1.2.3/",
    "http://256.1.1.1/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://example.0x1f/",
    "http://01.02.03.04/",
    # IPv6 literal forms
    "http://[::1/",
    "http://::1]/",
    "http://::1/",
    "http://[::1]x/",
    "http://[::1]:99999/",
    "http://[fe80::1%25eth0]/",
    "http://[v1.fe]/",
    "http://[1.2.3.4]/",
    "http://[::g]/",
    "http://[]/",
    # User info of any shape
    "http://user@example.com/",
    "http://user:pass@example.com/",
    "http://@example.com/",
    "http://:@example.com/",
    "http://a@b@example.com/",
    "http://us er@example.com/",
    "http://example.com@evil.example/",
    # Control characters anywhere, other schemes, no scheme
    "https://example.com/\r\nSet-Cookie: x=1",
    "https://example.com/\x00",
    "https://example.com/a\tb",
    "https://example.com/\x7f",
    "https://example.com/\x85",
    "\x01https://example.com/",
    "javascript:alert(1)",
    "ftp://example.com/",
    "data:text/html,x",
    "//example.com/",
    "example.com",
    "",
    # Too long
    "https://example.com/" + "a" * MAX_BYTES,
    "https://example.com/" + "é" * (MAX_BYTES // 2),
    # Within the byte limit, but its percent-encoding would pass MAX_LOCATION
    "https://example.com/" + "€" * (MAX_BYTES // 3 - 10),
    # Not UTF-8 at all
    "https://example.com/\ud800",
]
