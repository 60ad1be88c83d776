"""A real SMTP server on a free local port (aiosmtpd), keeping what it receives: plaintext, with
STARTTLS, or with implicit TLS, under a throwaway certificate authority made for the run."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.live import free_port


class Inbox:
    """An aiosmtpd handler keeping what it receives (`messages`), the logins it was offered
    (`logins`: user and password) and whether each message came over TLS (`encrypted`)."""

    def __init__(self, port: int):
        self.port = port
        self.messages = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        """Accept any login, keeping it: a test sees whether a password crossed the wire."""
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)


def _certificate(subject: str, key, issuer_key, issuer: str, ca: bool, ip: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Authority:
    """A CA made for this run and a server certificate for 127.0.0.1 it signed."""

    def __init__(self, directory: Path):
        ca_key, key = (
            ec.generate_private_key(ec.SECP256R1()),
            ec.generate_private_key(ec.SECP256R1()),
        )
        ca = _certificate("Leadcamp test CA", ca_key, ca_key, "Leadcamp test CA", ca=True)
        leaf = _certificate("127.0.0.1", key, ca_key, "Leadcamp test CA", ca=False, ip="127.0.0.1")
        pem = serialization.Encoding.PEM
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(pem))
        self.cert_file = directory / "server.pem"
        self.cert_file.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
        self.key_file = directory / "server.key"
        self.key_file.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )

    def server_context(self) -> ssl.SSLContext:
        """What the test server presents."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only (tests only)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


@pytest.fixture(scope="session")
def test_authority(tmp_path_factory) -> Authority:
    """The run's throwaway certificate authority."""
    return Authority(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def start_smtp(test_authority):
    """Starts local SMTP servers for the test: `start(tls)` with tls "none", "starttls" or
    "implicit"; each accepts any login; returns its Inbox. All are stopped at teardown."""
    controllers = []

    def start(tls: str = "none") -> Inbox:
        inbox = Inbox(free_port())
        # AUTH is offered on every server: without TLS, to catch a client that would log in
        # in clear; aiosmtpd counts only STARTTLS as TLS, so implicit TLS needs the same switch.
        options = {"authenticator": inbox.authenticate, "auth_require_tls": tls == "starttls"}
        if tls == "starttls":
            options |= {"tls_context": test_authority.server_context(), "require_starttls": True}
        elif tls == "implicit":
            options["ssl_context"] = test_authority.server_context()
        controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **options)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server():
    """A local plaintext SMTP server, running for the test; yields its Inbox."""
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
