"""Helpers to run the project's own entry points as local processes, with bounded waits.

Each process runs in its own session (process group), so a test can kill it and its children at
once (``kill -9`` of a Celery worker kills the pool too). Output goes to a file, never a pipe, so a
chatty process can never block on a full pipe; tests read the file.
"""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# The integration runs use their own Redis database (14 on the test Redis server, or
# TEST_WORKER_REDIS_URL) for the worker's broker and cache, so the suite's flush of the test
# database between tests never touches a running worker's queues.
WORKER_REDIS_URL = os.environ.get("TEST_WORKER_REDIS_URL") or urlsplit(settings.REDIS_URL)._replace(path="/14").geturl()


# Put before the code of a ``python -c`` script that loads the settings: django-environ then skips
# the project's ``.env`` file, so the process sees exactly the environment it was given and a
# developer's ``.env`` cannot change what a test measures.
IGNORE_DOTENV = "import environ\nenviron.Env.read_env = staticmethod(lambda *args, **kwargs: None)\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy and return its value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def database_url() -> str:
    """A DATABASE_URL for the database this test run uses (pytest-django's ``test_`` copy)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}{':' + password if password else ''}@" if user else ""
    host = quote(db.get("HOST") or "", safe="")  # a socket directory is percent-encoded
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{db['NAME']}"


class Process:
    """One project process (``celery``, ``gunicorn``...) with its output in ``log_path``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = self.log_path.open("ab")
        try:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        return self

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_for_output(self, text: str, timeout: float) -> None:
        def seen() -> bool:
            if text in self.output:
                return True
            if not self.running():
                raise AssertionError(f"{self.name} exited early:\n{self.output[-4000:]}")
            return False

        wait_until(seen, timeout, f"{text!r} from {self.name}")

    def kill(self) -> None:
        """SIGKILL the whole process group (the process and its children), then reap it."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the group, and SIGKILL it if it has not exited within ``timeout``."""
        if self.popen is None or self.popen.poll() is not None:
            self.kill()
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        self.kill()


def project_env(**overrides: str) -> dict[str, str]:
    """The environment of a project process: this one's, plus the test settings and overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_", "CELERY_", "EMAIL_", "TWILIO_", "SMS_"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "project.settings.test", "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


@contextmanager
def celery_configured(**values: object) -> Iterator[None]:
    """Set options on this process's Celery app (``broker_url=..., task_always_eager=False``).

    Set on the app's own configuration, which wins over Django settings, so a value another test
    left pinned there cannot get in the way; on exit the configuration is exactly as it was, and
    the connection pools are rebuilt from it. Each value is set under its own name and under the
    app's namespace (``CELERY_BROKER_TRANSPORT_OPTIONS``): Celery 5.6 looks up the namespaced name
    first, so a change under the plain name alone would lose to the Django setting.
    """
    from project.celery import app

    app.conf.broker_url  # noqa: B018 - loads a still pending configuration, so `changes` is its dict
    changes = app.conf.changes
    named = {spelling: value for key, value in values.items() for spelling in (key, f"{app.namespace}_{key.upper()}")}
    saved = {key: changes[key] for key in named if key in changes}
    changes.update(named)
    celery_pools_reset()
    try:
        yield
    finally:
        for key in named:
            changes.pop(key, None)
        changes.update(saved)
        celery_pools_reset()


def celery_pools_reset() -> None:
    """Drop this process's Celery connection pools, so the next publish uses the broker settings
    as they are now (the pools are made once, from the broker URL of the moment)."""
    from kombu import pools

    from project.celery import app

    pools.reset()  # closes every pool and forgets them (the registry would hand out closed ones)
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


class CeleryWorker:
    """``celery -A project worker`` on the ``notifications`` queue, as ``make worker`` runs it
    (one prefork child, so a kill of the group is a kill of the worker that holds the task)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.runs: list[Process] = []

    def start(self, timeout: float = 30.0) -> Process:
        name = f"worker-{len(self.runs) + 1}"
        argv = [
            str(BIN / "celery"),
            "-A",
            "project",
            "worker",
            "-Q",
            "notifications",
            "-P",
            "prefork",
            "-c",
            "1",
            "-n",
            f"{name}-{os.getpid()}@%h",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "INFO",
            "-E",  # task events, as `make worker` sends them (Flower reads them)
        ]
        process = Process(name, argv, self.env, self.log_dir).start()
        self.runs.append(process)
        process.wait_for_output(" ready.", timeout)
        return process

    @property
    def current(self) -> Process:
        return self.runs[-1]

    @property
    def output(self) -> str:
        """Everything every run of the worker printed (stdout and stderr)."""
        return "".join(run.output for run in self.runs)

    def kill(self) -> None:
        for run in self.runs:
            run.kill()
