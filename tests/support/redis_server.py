"""A redis-server of our own on loopback, that a test can kill and start again (empty: it never
saves), for the tests of what survives or fails when Redis goes away."""

import socket
import subprocess
import time
from pathlib import Path

import redis

from tests.support.processes import free_port


def free_port_in(ports: range) -> int:
    """A loopback port of ``ports`` that nothing listens on (for servers that must stay in a range)."""
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


class RedisServer:
    """A redis-server on ``port`` (a free one if not given) with ``directory`` as its working
    directory; nothing is persisted, so a restart starts empty."""

    def __init__(self, directory: Path, port: int | None = None, extra: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.extra = extra  # more arguments: --replicaof host port, say
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", str(self.directory),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
