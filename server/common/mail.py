"""Outgoing notices (invitations, sub-processor changes, breaches) through the configured SMTP
server. Without one, `send` says so and the caller shows the text to the admin instead.

Mail carries sign-in-capable links and the SMTP password, so it goes over TLS or not at all:
implicit TLS on port 465, STARTTLS elsewhere, the server's certificate verified against the
system's trust store. A server that offers no STARTTLS gets nothing unless the operator set
SMTP_ALLOW_PLAINTEXT (a relay on the same host)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

log = logging.getLogger(__name__)

IMPLICIT_TLS_PORT = 465


class InsecureTransport(smtplib.SMTPException):
    """The server offers no TLS and plaintext is not allowed."""


@dataclass(frozen=True)
class Mailer:
    """SMTP settings; an empty host means mail is not configured."""

    host: str = ""
    port: int = 587
    user: str = ""
    password: str = ""
    sender: str = ""
    implicit_tls: bool = False
    allow_plaintext: bool = False
    # Only tests pass a context (one trusting their throwaway CA); None verifies against the
    # system's trust store.
    tls_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)

    @property
    def configured(self) -> bool:
        """Whether there is an SMTP server to send through."""
        return bool(self.host)

    def send(self, to: list[str], subject: str, body: str) -> bool:
        """Send a plain-text mail; False when mail is not configured or it was not sent."""
        if not self.configured or not to:
            return False
        message = EmailMessage()
        message["From"] = self.sender or f"leadcamp@{self.host}"
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # Never the message or the exception's text: both can carry links and addresses.
            log.error(
                "mail to %d recipient(s) via %s:%d not sent: %s",
                len(to),
                self.host,
                self.port,
                _reason(exc),
            )
            return False
        return True

    def _connect(self) -> smtplib.SMTP:
        context = self.tls_context or ssl.create_default_context()
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=15, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=15)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif not self.allow_plaintext:
                raise InsecureTransport(
                    "the server offers no STARTTLS; refusing to send in plaintext "
                    "(SMTP_ALLOW_PLAINTEXT=true allows it, for a relay on this host only)"
                )
        except BaseException:
            smtp.close()
            raise
        return smtp


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InsecureTransport | ssl.SSLError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        # The server's text may quote a recipient's address; its code says enough.
        return f"{type(exc).__name__} (SMTP {exc.smtp_code})"
    return type(exc).__name__


def from_settings(settings) -> Mailer:
    """The mailer the app's settings describe."""
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        sender=settings.smtp_from,
        implicit_tls=settings.smtp_port == IMPLICIT_TLS_PORT,
        allow_plaintext=settings.smtp_allow_plaintext,
    )
