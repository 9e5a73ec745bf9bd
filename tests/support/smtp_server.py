"""An SMTP server on loopback (aiosmtpd) that records what it accepts.

It can be told to refuse the next N messages with a given reply code, so tests see how a 4xx
(try later) and a 5xx (never) answer are handled by the real Django SMTP backend::

    server = SmtpServer().start()
    server.fail_next(451, count=1)
    ...
    server.messages[-1].message.get_body(("html",)).get_content()
"""

import asyncio
import email
import email.policy
import logging
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property

from aiosmtpd.controller import Controller

from tests.support.processes import free_port, wait_until

_REPLIES = {
    421: "421 4.3.2 Service not available, try again later",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox does not exist",
    552: "552 5.3.4 Message too big",
    554: "554 5.7.1 Message rejected",
}


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        """Parsed with the modern e-mail API (get_body, get_content), when first read: parsing
        every message as it arrives would make the sink, not the sender, the bottleneck."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class RecordingHandler:
    """aiosmtpd handler: answers DATA with 250, or with the next scripted failure."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refused: list[int] = []  # reply codes given, in order
        self._failures: deque[int] = deque()
        self._lock = threading.Lock()
        self.delay = 0.0  # seconds each message takes before it is accepted (a slow mail server)

    def fail_next(self, code: int, count: int = 1) -> None:
        with self._lock:
            self._failures.extend([code] * count)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self._failures:
                code = self._failures.popleft()
                self.refused.append(code)
                return _REPLIES.get(code, f"{code} Scripted failure")
            raw = envelope.original_content or envelope.content
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._running = False

    def start(self) -> "SmtpServer":
        # aiosmtpd logs every connection at INFO; the tests read `messages` instead.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._controller.stop()

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def fail_next(self, code: int, count: int = 1) -> None:
        self.handler.fail_next(code, count)

    def wait_for_messages(self, count: int, timeout: float = 15.0) -> list[Received]:
        wait_until(lambda: len(self.messages) >= count, timeout, f"{count} e-mail(s) at the SMTP server")
        return self.messages
