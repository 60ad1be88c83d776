"""Outgoing notices (invitations, sub-processor changes, breaches) through the configured SMTP
server. Without one, `send` says so and the caller shows the text to the admin instead."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailer:
    """SMTP settings; an empty host means mail is not configured."""

    host: str = ""
    port: int = 587
    user: str = ""
    password: str = ""
    sender: str = ""

    @property
    def configured(self) -> bool:
        """Whether there is an SMTP server to send through."""
        return bool(self.host)

    def send(self, to: list[str], subject: str, body: str) -> bool:
        """Send a plain-text mail; False when mail is not configured or the server refused."""
        if not self.configured or not to:
            return False
        message = EmailMessage()
        message["From"] = self.sender or f"leadcamp@{self.host}"
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=15) as smtp:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException):
            log.exception("mail to %d recipient(s) not sent", len(to))
            return False
        return True


def from_settings(settings) -> Mailer:
    """The mailer the app's settings describe."""
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        sender=settings.smtp_from,
    )
