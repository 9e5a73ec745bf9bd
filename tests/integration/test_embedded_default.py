"""`make run` with nothing configured: the embedded default. With only PATH and HOME in the
environment the local settings pick SQLite, a local-memory cache and code store, in-process Celery
tasks and console senders; `manage.py migrate` and `runserver` then serve the whole flow, with the
codes read from what the server prints.

The processes get a clean environment (no DATABASE_URL, REDIS_URL, CELERY_*, EMAIL_*, SMS_*...),
and the project's .env file is ignored, as if it were not there.
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
import requests

from tests.support.processes import IGNORE_DOTENV, ROOT, Process, free_port, wait_until

pytestmark = pytest.mark.integration

PROFILE = {
    "first_name": "jone",
    "username": "jone123",
    "bio": "some bio",
    "gender": "male",
    "password": "a long pass phrase",
    "confirm_password": "a long pass phrase",
}
PHONE = "+12025550143"

_PRINT_SETTINGS = (
    IGNORE_DOTENV
    + """
import json
import django
django.setup()
from django.conf import settings
from project.celery import app
from users import codes
print(json.dumps({
    "database": settings.DATABASES["default"]["ENGINE"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_app_eager": app.conf.task_always_eager,
    "email": settings.EMAIL_BACKEND,
    "sms": settings.SMS_BACKEND,
    "code_store": type(codes._store()).__name__,
}))
"""
)

# manage.py itself, run so that the settings ignore the .env file.
_MANAGE = (
    IGNORE_DOTENV
    + """
import runpy, sys
sys.argv[0] = "manage.py"
runpy.run_path("manage.py", run_name="__main__")
"""
)


def repo_database_stamp() -> int | None:
    """When the project's own db.sqlite3 last changed (None: there is none)."""
    path = ROOT / "db.sqlite3"
    return path.stat().st_mtime_ns if path.exists() else None


@dataclass
class EmbeddedServer:
    process: Process
    url: str
    repo_database_before: int | None  # repo_database_stamp() before the migration

    def answers(self) -> bool:
        if not self.process.running():
            raise AssertionError(f"runserver exited:\n{self.process.output[-4000:]}")
        try:
            return requests.get(f"{self.url}/health/live/", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def printed_code(self, pattern: str) -> str:
        """The last code printed in a message matching ``pattern`` (its one group is the code)."""

        def found() -> str | None:
            codes = re.findall(pattern, self.process.output)
            return codes[-1] if codes else None

        return wait_until(found, 15, f"a code matching {pattern!r} in the server's output")


def clean_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "project.settings.local",
        **extra,
    }


def manage(*args: str) -> list[str]:
    return [sys.executable, "-u", "-c", _MANAGE, *args]


def test_nothing_configured_gives_sqlite_local_memory_in_process_tasks_and_console_senders():
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr[-3000:]
    resolved = json.loads(result.stdout.strip().splitlines()[-1])
    assert resolved == {
        "database": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "eager": True,
        "celery_app_eager": True,
        "email": "django.core.mail.backends.console.EmailBackend",
        "sms": "notifications.channels.ConsoleSms",
        "code_store": "MemoryCodeStore",
    }


@pytest.fixture
def embedded_server(tmp_path):
    """`manage.py migrate` then `runserver` on a free port, in the clean environment but for a
    SQLite file of this test's own (the project's db.sqlite3 is left alone)."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    repo_database_before = repo_database_stamp()
    migrate = subprocess.run(
        manage("migrate", "--noinput"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-3000:]
    assert (tmp_path / "db.sqlite3").exists()

    port = free_port()
    server = EmbeddedServer(
        Process("runserver", manage("runserver", f"127.0.0.1:{port}", "--noreload"), env, tmp_path),
        f"http://127.0.0.1:{port}",
        repo_database_before,
    )
    try:
        server.process.start()
        wait_until(server.answers, 30, "runserver to answer")
        yield server
    finally:
        server.process.kill()


def test_the_seed_flow_runs_on_the_embedded_default(embedded_server):
    api = embedded_server.url
    http = requests.Session()

    signup = http.post(f"{api}/user/signup/", json={"email_phone_number": "jone@example.com"}, timeout=10)
    assert signup.status_code == 201, signup.text
    code = embedded_server.printed_code(r"To: jone@example\.com[\s\S]*?verification code is:\s+(\d{6})\b")

    bearer = {"Authorization": f"Bearer {signup.json()['access']}"}
    verify = http.post(f"{api}/user/verify/", json={"code": code}, headers=bearer, timeout=10)
    assert verify.status_code == 200, verify.text

    bearer = {"Authorization": f"Bearer {verify.json()['access']}"}
    profile = http.patch(f"{api}/user/change-user-info/", json=PROFILE, headers=bearer, timeout=10)
    assert profile.status_code == 200, profile.text
    assert profile.json()["auth_status"] == "done"

    login = http.post(f"{api}/user/login/", json={"user_input": "jone123", "password": PROFILE["password"]}, timeout=10)
    assert login.status_code == 200, login.text
    refreshed = http.post(f"{api}/user/login-refresh/", json={"refresh": login.json()["refresh"]}, timeout=10)
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()

    bearer = {"Authorization": f"Bearer {tokens['access']}"}
    logout = http.post(f"{api}/user/logout/", json={"refresh": tokens["refresh"]}, headers=bearer, timeout=10)
    assert logout.status_code == 200, logout.text
    after = http.post(f"{api}/user/login-refresh/", json={"refresh": tokens["refresh"]}, timeout=10)
    assert after.status_code == 401, after.text
    assert after.json()["code"] == "token_not_valid"

    assert repo_database_stamp() == embedded_server.repo_database_before  # all of it went to the tmp database


def test_a_phone_sign_up_on_the_embedded_default_prints_the_sms(embedded_server):
    api = embedded_server.url

    signup = requests.post(f"{api}/user/signup/", json={"email_phone_number": PHONE}, timeout=10)
    assert signup.status_code == 201, signup.text
    code = embedded_server.printed_code(rf"--- SMS to {re.escape(PHONE)} ---\n.* code is (\d{{6}})\.")

    bearer = {"Authorization": f"Bearer {signup.json()['access']}"}
    verify = requests.post(f"{api}/user/verify/", json={"code": code}, headers=bearer, timeout=10)
    assert verify.status_code == 200, verify.text
    assert verify.json()["auth_status"] == "code_verified"
