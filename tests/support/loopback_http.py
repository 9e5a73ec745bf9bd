"""What the fake HTTP services of the tests share: a threading HTTP server on a free loopback port,
served from a daemon thread, and a stop that also ends the requests a fake is holding on purpose."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackHttpServer:
    """Subclasses give the request handler (``_handler_class``); a handler that stalls waits on
    ``_closing``, which ``stop`` sets so that no test waits out a stall."""

    name = "loopback-http"

    def __init__(self) -> None:
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()  # ends stalled requests now
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
