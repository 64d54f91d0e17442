"""Sending takedown requests: a ``Sender`` takes one e-mail (``email.message.EmailMessage``, the
letter as its body and the pack attached) and delivers it, or raises ``SendFailed``.

- ``OutboxSender`` (the default): writes ``<ref>-<time>.eml`` to a local directory (mode 0700, files
  0600), from where a person or another system sends it. Nothing leaves the machine.
- ``SmtpSender``: the standard library's ``smtplib`` to the configured server, with STARTTLS
  (refused when the server does not offer it), implicit TLS or none (local relays), and a login when
  a user is set. The password is a ``SecretStr``: it is handed to ``login`` and nowhere else, and
  errors are reported by their SMTP code and class, never with the conversation.

``build_sender(settings)`` chooses by ``POSTGUARD_TAKEDOWN_SENDER``.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from postguard.errors import PostguardError
from postguard.files import private_dir
from postguard.settings import Settings


class SendFailed(PostguardError):
    """A message could not be handed over; ``detail`` says why without secrets or personal data."""

    status = 502
    slug = "send-failed"
    title = "Sending failed"
    exit_code = 1


class Sender(Protocol):
    name: str

    def send(self, message: EmailMessage) -> str:
        """Deliver ``message`` (its ``Message-ID`` set); return where it went (a file name, a server)."""
        ...


def message_id(domain: str) -> str:
    return make_msgid(domain=domain)


class OutboxSender:
    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> str:
        try:
            private_dir(self.directory)
            ref = "".join(c for c in str(message.get("X-Postguard-Takedown", "takedown")) if c.isalnum() or c == "-")
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            final = self.directory / f"{ref}-{stamp}.eml"
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(message.as_bytes())
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, final)  # whole or not at all
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise SendFailed(f"The outbox could not be written ({type(e).__name__}: {e.strerror or 'error'}).") from None
        return f"outbox:{final.name}"


class SmtpSender:
    name = "smtp"

    def __init__(self, *, host: str, port: int, security: str, user: str | None, password: SecretStr | None,
                 timeout: float, context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.security = host, port, security
        self.user, self._password, self.timeout = user, password, timeout
        self.context = context or ssl.create_default_context()

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host}:{self.port}, {self.security}, user={'set' if self.user else 'none'})"

    def send(self, message: EmailMessage) -> str:
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if self.security == "starttls":
                    if not client.has_extn("starttls"):
                        raise SendFailed("The SMTP server does not offer STARTTLS; refusing to send in clear.")
                    client.starttls(context=self.context)
                    client.ehlo()
                if self.user:
                    client.login(self.user, self._password.get_secret_value() if self._password else "")
                refused = client.send_message(message)
                if refused:
                    raise SendFailed(f"The SMTP server refused {len(refused)} recipient(s).")
        except SendFailed:
            raise
        except smtplib.SMTPResponseException as e:
            raise SendFailed(f"The SMTP server answered {e.smtp_code} ({type(e).__name__}).") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as e:
            raise SendFailed(f"The SMTP server could not be reached or failed ({type(e).__name__}).") from None
        return f"smtp:{self.host}:{self.port}"


def build_sender(settings: Settings) -> Sender:
    if settings.takedown_sender == "smtp":
        if not settings.takedown_smtp_host:  # settings refuse this already
            raise SendFailed("No SMTP host is configured.")
        return SmtpSender(host=settings.takedown_smtp_host, port=settings.takedown_smtp_port,
                          security=settings.takedown_smtp_security, user=settings.takedown_smtp_user,
                          password=settings.takedown_smtp_password, timeout=settings.takedown_smtp_timeout_seconds)
    outbox = settings.takedown_outbox_dir or settings.data_dir / "takedown-outbox"
    return OutboxSender(outbox)
