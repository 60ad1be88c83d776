"""One POST to a checked address: pinned connection, timeouts, a response size cap, no redirects.

The connection goes to the address the guard checked, while the Host header, TLS server name and
certificate check use the URL's host name, so HTTPS still verifies the receiver's certificate.
A redirect is an answer like any other non-2xx one: never followed (it could point anywhere).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from server.webhooks.guard import Target

MAX_RESPONSE_BYTES = 64 * 1024
CHUNK = 8192


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the status code (None when no answer), latency and our error."""

    status: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted the event (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext | None):
        super().__init__(
            target.host, target.port, timeout=timeout, context=context or _default_context()
        )
        self.address = target.address

    def connect(self):
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _default_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def post(
    target: Target,
    headers: dict[str, str],
    body: bytes,
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
) -> Outcome:
    """POST `body` to the target and read at most MAX_RESPONSE_BYTES of the answer, within
    about `timeout` seconds in all."""
    if target.scheme == "https":
        conn = _PinnedHTTPS(target, timeout, context)
    else:
        conn = _PinnedHTTP(target, timeout)
    start = time.monotonic()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        _drain(response, start + timeout)
        return Outcome(response.status, _ms(start))
    except TimeoutError:
        return Outcome(None, _ms(start), "timed out")
    except ssl.SSLError as exc:
        return Outcome(None, _ms(start), f"TLS failed: {exc.__class__.__name__}")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, _ms(start), f"connection failed: {exc.__class__.__name__}")
    finally:
        conn.close()


def _drain(response: http.client.HTTPResponse, deadline: float) -> None:
    """Read (and discard) the answer up to the cap; a receiver trickling bytes is cut off."""
    read = 0
    while read < MAX_RESPONSE_BYTES:
        chunk = response.read(min(CHUNK, MAX_RESPONSE_BYTES - read))
        if not chunk:
            return
        read += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)
