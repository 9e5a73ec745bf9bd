"""A fake challenge siteverify endpoint (Cloudflare Turnstile, hCaptcha) on loopback, reached by
the real backends of users/challenges.py over HTTP.

``POST /siteverify`` takes the form ``{secret, response, remoteip}`` and answers
``{"success": bool, "error-codes": [...]}`` like the providers do: a response token passes when
the secret is :data:`SECRET` and the token is one that :meth:`FakeSiteverify.token` handed out and
that was not checked before (tokens are single use, as the providers' are). Each request takes the
next scripted answer, or the verdict when the script is empty:

- ``"verdict"``: the real check above.
- ``"500"``: an HTTP 500 with an HTML body; ``"garbage"``: HTTP 200 that is not JSON.
- ``"stall"``: holds the request longer than the client's timeout, then closes it without an answer.

Every request is recorded in :attr:`FakeSiteverify.requests` (its form fields), so tests can see
what was sent and whether anything was sent at all.
"""

import itertools
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.support.loopback_http import LoopbackHttpServer

SECRET = "fake-siteverify-secret-0x4AAAAAAA"


class FakeSiteverify(LoopbackHttpServer):
    name = "fake-siteverify"

    def __init__(self, stall_seconds: float = 3.0) -> None:
        self.stall_seconds = stall_seconds
        self.requests: list[dict[str, str]] = []
        self._issued: set[str] = set()
        self._spent: set[str] = set()
        self._counter = itertools.count(1)
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base_url}/siteverify"

    def token(self) -> str:
        """A response token that passes once, as a client gets one by solving the challenge."""
        token = f"XXXX.DUMMY.TOKEN.{next(self._counter):06d}"
        with self._lock:
            self._issued.add(token)
        return token

    def script(self, *answers: str) -> None:
        """Queue answers for the next requests, in order; the real verdict once they are used up."""
        with self._lock:
            self._script.extend(answers)

    # --- the HTTP side ----------------------------------------------------------------------

    def _answer(self, form: dict[str, str]) -> tuple[str, dict]:
        with self._lock:
            self.requests.append(form)
            scripted = self._script.popleft() if self._script else "verdict"
            if scripted != "verdict":
                return scripted, {}
            errors = []
            if form.get("secret") != SECRET:
                errors.append("invalid-input-secret")
            token = form.get("response", "")
            if not token:
                errors.append("missing-input-response")
            elif token in self._spent:
                errors.append("timeout-or-duplicate")
            elif token not in self._issued:
                errors.append("invalid-input-response")
            if token in self._issued:
                self._issued.discard(token)
                self._spent.add(token)
            return "verdict", {"success": not errors, "error-codes": errors}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "FakeSiteverify/1.0"

            def log_message(self, format: str, *args) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/siteverify":
                    self._send(404, b"not found", "text/plain")
                    return
                kind, verdict = fake._answer(form)
                if kind == "stall":
                    fake._closing.wait(fake.stall_seconds)
                    self.close_connection = True  # no answer: the client has given up by now
                elif kind == "500":
                    self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
                elif kind == "garbage":
                    self._send(200, b"<html>maintenance</html>", "text/html")
                else:
                    self._send(200, json.dumps(verdict).encode(), "application/json")

        return Handler
