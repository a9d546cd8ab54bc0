"""Mail delivery over SMTP (the standard library's smtplib): the project invitations.

The settings are 4.3's `project.smtp.*` and `project.email.sender`; the connection is plain SMTP
on the configured port, authenticated when `useAuth` is on, as 4.3's invitation mailer does.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from domain.values import Secret

TIMEOUT_SECONDS = 10.0


class MailUndelivered(Exception):
    """The server could not be reached, refused the login or refused the message."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    use_auth: bool
    username: str
    password: Secret
    sender: str


def send(settings: MailSettings, to: str, subject: str, body: str) -> None:
    """Delivers one plain-text message, or raises MailUndelivered (saying why, never the
    password or the message's body)."""
    if not settings.host:
        raise MailUndelivered("no SMTP server is configured (project.smtp.host is empty)")
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as client:
            if settings.use_auth:
                client.login(settings.username, settings.password.reveal())
            client.send_message(message, from_addr=settings.sender, to_addrs=[to])
    except (OSError, smtplib.SMTPException) as error:
        raise MailUndelivered(
            f"the SMTP server {settings.host}:{settings.port} did not take the message "
            f"({type(error).__name__})"
        ) from None
