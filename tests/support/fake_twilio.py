"""A fake Twilio REST API on loopback, reached by the real ``twilio`` client.

It implements ``POST /2010-04-01/Accounts/<sid>/Messages.json`` well enough for
``client.messages.create``: HTTP basic auth with the account SID and token, form fields in, a
Twilio-shaped JSON answer out. Each request takes the next scripted answer, or 201 when the script
is empty:

- ``"201"``: accepted; the message is recorded in :attr:`FakeTwilio.messages`.
- ``"400:21211"`` (any status and Twilio error code): Twilio's legacy error body
  ``{"code", "message", "more_info", "status"}``; ``"400:21211:rfc9457"`` answers the same error
  in the RFC 9457 problem shape some Twilio APIs use.
- ``"429"``, ``"500"``: rate limited (Twilio code 20429) and server error (20500).
- ``"stall"``: holds the request longer than the client's timeout, then closes it without an
  answer; the message is **not** recorded, as if Twilio never accepted it.

Only messages answered 201 are recorded; every request is listed in :attr:`FakeTwilio.requests`.
"""

import base64
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.support.loopback_http import LoopbackHttpServer
from tests.support.processes import wait_until

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
FROM_NUMBER = "+12025550100"

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")
_ERROR_TEXT = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass(frozen=True)
class Request:
    answer: str  # the scripted answer it got
    form: dict[str, str]


class FakeTwilio(LoopbackHttpServer):
    name = "fake-twilio"

    def __init__(self, stall_seconds: float = 3.0) -> None:
        self.stall_seconds = stall_seconds
        self.messages: list[dict[str, str]] = []  # form fields of the messages answered 201
        self.sids: list[str] = []  # the message SIDs given to them, in the same order
        self.requests: list[Request] = []
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self._stalling = threading.Event()  # set while a stalled request is being held
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url

    def script(self, *answers: str) -> None:
        """Queue answers for the next requests, in order; 201 once they are used up."""
        with self._lock:
            self._script.extend(answers)

    def wait_for_messages(self, count: int, timeout: float = 15.0) -> list[dict[str, str]]:
        wait_until(lambda: len(self.messages) >= count, timeout, f"{count} SMS at the fake Twilio")
        return self.messages

    @property
    def answers(self) -> list[str]:
        """The answer given to each request so far, in order."""
        return [request.answer for request in self.requests]

    def wait_for_stall(self, timeout: float = 15.0) -> None:
        """Wait until a request is being held by a ``"stall"`` answer (a call in flight)."""
        wait_until(self._stalling.is_set, timeout, "a stalled request at the fake Twilio", interval=0.01)

    # --- the HTTP side ----------------------------------------------------------------------

    def _next_answer(self, form: dict[str, str]) -> str:
        with self._lock:
            answer = self._script.popleft() if self._script else "201"
            self.requests.append(Request(answer, form))
            return answer

    def _accept(self, sid: str, form: dict[str, str]) -> dict:
        message_sid = "SM" + uuid.uuid4().hex
        with self._lock:
            self.messages.append(form)
            self.sids.append(message_sid)
        return {
            "sid": message_sid,
            "account_sid": sid,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "api_version": "2010-04-01",
            "date_created": formatdate(usegmt=True),
            "date_updated": formatdate(usegmt=True),
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json"},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "FakeTwilio/1.0"

            def log_message(self, format: str, *args) -> None:
                pass  # request lines carry phone numbers; tests read `requests` instead

            def _send_json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_error(self, status: int, code: int, style: str = "legacy") -> None:
                if style == "rfc9457":
                    body = {
                        "type": f"https://www.twilio.com/docs/errors/{code}",
                        "title": _ERROR_TEXT.get(code, "Error"),
                        "status": status,
                        "code": code,
                        "detail": _ERROR_TEXT.get(code, "Error"),
                    }
                else:
                    body = {
                        "code": code,
                        "message": _ERROR_TEXT.get(code, "Error"),
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    }
                self._send_json(status, body)

            def _authorized(self, sid: str) -> bool:
                expected = base64.b64encode(f"{sid}:{AUTH_TOKEN}".encode()).decode()
                return sid == ACCOUNT_SID and self.headers.get("Authorization") == f"Basic {expected}"

            def do_POST(self) -> None:
                match = _MESSAGES_PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                if match is None:
                    self._send_error(404, 20404)
                    return
                if not self._authorized(match["sid"]):
                    self._send_error(401, 20003)
                    return
                sender = form.get("From") or form.get("MessagingServiceSid")
                if not form.get("To") or not form.get("Body") or not sender:
                    self._send_error(400, 21604)
                    return
                answer = fake._next_answer(form)
                if answer == "stall":
                    fake._stalling.set()
                    fake._closing.wait(fake.stall_seconds)
                    fake._stalling.clear()
                    self.close_connection = True  # no answer: the client has given up by now
                    return
                if answer == "201":
                    self._send_json(201, fake._accept(match["sid"], form))
                    return
                status, _, rest = answer.partition(":")
                code, _, style = rest.partition(":")
                default_code = {429: 20429, 500: 20500, 503: 20503}.get(int(status), int(status))
                self._send_error(int(status), int(code) if code else default_code, style or "legacy")

        return Handler
