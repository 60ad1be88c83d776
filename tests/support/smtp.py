"""A real SMTP server on a free local port (aiosmtpd), keeping what it receives."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.support.live import free_port


class Inbox:
    """An aiosmtpd handler keeping what it receives; `port` is where the server listens."""

    def __init__(self, port: int):
        self.port = port
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A local SMTP server, running for the test; yields its Inbox (`.port`, `.messages`)."""
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
