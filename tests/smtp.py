"""A real SMTP server for tests: Django's SMTP backend talks to it over a socket.

The locmem backend shows what Django meant to send; this shows what an SMTP
server actually received: the envelope, the headers and the body as they went
over the wire. Import the fixture where it is needed:

    from tests.smtp import smtp_server  # noqa: F401 (a pytest fixture)
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import EmailMessage

    from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return str(self.message.get_content())

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)


@dataclass
class _Collector:
    """The aiosmtpd handler: accepts every message and keeps it."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)  # decode_data is off: the raw bytes, as sent
        message: Any = message_from_bytes(content, policy=policy.default)
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    received: list[Received]

    def to(self, address: str) -> list[Received]:
        """The messages whose envelope names `address` as a recipient."""
        return [message for message in self.received if address in message.rcpt_tos]

    def subjects_to(self, address: str) -> list[str]:
        """The subjects of the messages to `address`, in the order they came."""
        return [message.subject for message in self.to(address)]


def _free_port() -> int:
    # The port is free when asked; nothing else on this host is expected to take
    # it in the moment before the server binds it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A local SMTP server that Django sends to, for the length of one test."""
    collector = _Collector()
    controller = Controller(collector, hostname=HOST, port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield SmtpServer(HOST, controller.port, collector.received)
    finally:
        controller.stop()
