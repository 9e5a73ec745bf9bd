"""`make run` with nothing configured: the embedded default. With only PATH and HOME in the
environment the local settings pick SQLite, the process's own memory for the cache and the code
store, in-process Celery tasks and console senders; the commands of `make run` (migrate, then
gunicorn with one process and threads) serve the whole flow, with the codes read from what the
server prints. What it promises holds under load: flooding its cache evicts nothing, and parallel
writes to SQLite all succeed.

The processes get a clean environment (no DATABASE_URL, REDIS_URL, CELERY_*, EMAIL_*, SMS_*...),
and the project's .env file is ignored, as if it were not there.
"""

import json
import os
import re
import shlex
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

# gunicorn itself, run so that the settings ignore the .env file (the workers are forks of this).
_GUNICORN = (
    IGNORE_DOTENV
    + """
import sys
from gunicorn.app.wsgiapp import run
sys.argv[0] = "gunicorn"
run()
"""
)


def make_run_commands(port: int) -> tuple[dict[str, str], list[list[str]]]:
    """What `make run` executes (its recipe, read with `make -n`): the variables it sets and the
    argv of each command, with the venv's python and gunicorn swapped for ones that ignore .env."""
    recipe = subprocess.run(
        ["make", "-s", "-n", "run", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.replace("\\\n", " ")
    variables: dict[str, str] = {}
    commands = []
    for line in recipe.splitlines():
        argv = shlex.split(line)
        while argv and re.fullmatch(r"[A-Z_]+=.*", argv[0]):
            name, _, value = argv.pop(0).partition("=")
            variables[name] = value
        if argv[:2] == [".venv/bin/python", "manage.py"]:
            commands.append([sys.executable, "-u", "-c", _MANAGE, *argv[2:]])
        elif argv[:1] == [".venv/bin/gunicorn"]:
            commands.append([sys.executable, "-u", "-c", _GUNICORN, *argv[1:]])
    return variables, commands


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
            raise AssertionError(f"the server exited:\n{self.process.output[-4000:]}")
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
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **extra}


def manage(*args: str) -> list[str]:
    return [sys.executable, "-u", "-c", _MANAGE, *args]


def test_nothing_configured_gives_sqlite_local_memory_in_process_tasks_and_console_senders():
    variables, _ = make_run_commands(free_port())
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS],
        cwd=ROOT,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    resolved = json.loads(result.stdout.strip().splitlines()[-1])
    assert resolved == {
        "database": "django.db.backends.sqlite3",
        "cache": "project.cache.MemoryCache",
        "eager": True,
        "celery_app_eager": True,
        "email": "django.core.mail.backends.console.EmailBackend",
        "sms": "notifications.channels.ConsoleSms",
        "code_store": "MemoryCodeStore",
    }


def test_make_run_chooses_the_local_settings_and_serves_with_gunicorn_threads():
    variables, commands = make_run_commands(8000)

    assert variables["DJANGO_SETTINGS_MODULE"] == "project.settings.local"
    migrate, serve = commands
    assert migrate[-2:] == ["migrate", "--noinput"]
    assert serve[4] == "project.wsgi:application"
    # One process: the embedded default keeps codes, limits and counters in its memory.
    assert serve[serve.index("--workers") + 1] == "1"
    assert int(serve[serve.index("--threads") + 1]) >= 4


def start_embedded_server(tmp_path, **env: str) -> "EmbeddedServer":
    """`make run`'s commands (migrate, then gunicorn) on a free port, in the clean environment but
    for a SQLite file of this test's own (the project's db.sqlite3 is left alone)."""
    port = free_port()
    variables, (migrate_argv, serve_argv) = make_run_commands(port)
    env = clean_env(**variables, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env)
    repo_database_before = repo_database_stamp()
    migrate = subprocess.run(migrate_argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-3000:]
    assert (tmp_path / "db.sqlite3").exists()

    server = EmbeddedServer(
        Process("make-run", serve_argv, env, tmp_path), f"http://127.0.0.1:{port}", repo_database_before
    )
    server.process.start()
    try:
        wait_until(server.answers, 30, "the server to answer")
    except BaseException:
        server.process.kill()
        raise
    return server


@pytest.fixture
def embedded_server(tmp_path):
    server = start_embedded_server(tmp_path)
    yield server
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


def finished_account(server: "EmbeddedServer", http: requests.Session, email: str, username: str) -> None:
    """Sign up, verify and complete a profile over HTTP, with the seed README's one token."""
    api = server.url
    signup = http.post(f"{api}/user/signup/", json={"email_phone_number": email}, timeout=10)
    assert signup.status_code == 201, signup.text
    code = server.printed_code(rf"To: {re.escape(email)}[\s\S]*?verification code is:\s+(\d{{6}})\b")
    bearer = {"Authorization": f"Bearer {signup.json()['access']}"}
    assert http.post(f"{api}/user/verify/", json={"code": code}, headers=bearer, timeout=10).status_code == 200
    profile = http.patch(
        f"{api}/user/change-user-info/", json={**PROFILE, "username": username}, headers=bearer, timeout=10
    )
    assert profile.status_code == 200, profile.text


def test_flooding_the_embedded_cache_changes_no_answer(tmp_path):
    # Rates raised only for the flood's own rules, as many clients would spread it. The login rule
    # keeps its count (10) in a window so long that the clock cannot start a new one mid-test
    # (windows are aligned on the clock: a 15-minute one could begin between the 9th and 10th).
    server = start_embedded_server(tmp_path, RATE_LIMITS="signup_ip=100000/h,login_account_failures=10/1000d")
    try:
        api, http = server.url, requests.Session()
        finished_account(server, http, "owner@example.com", "owner1")
        decoy = http.post(f"{api}/user/signup/", json={"email_phone_number": "owner@example.com"}, timeout=10)
        decoy_bearer = {"Authorization": f"Bearer {decoy.json()['access']}"}
        wrong = {"user_input": "owner1", "password": "not the password"}
        for _ in range(9):  # one short of login_account_failures (10)
            assert http.post(f"{api}/user/login/", json=wrong, timeout=10).status_code == 401

        # 400 sign-ups of distinct addresses: each one leaves rate-limit counters in the cache
        # (Django's local-memory cache would have evicted the oldest entries past 300).
        for index in range(400):
            flood = http.post(
                f"{api}/user/signup/", json={"email_phone_number": f"junk{index}@example.com"}, timeout=10
            )
            assert flood.status_code == 201, flood.text

        still_decoy = http.post(f"{api}/user/verify/", json={"code": "000000"}, headers=decoy_bearer, timeout=10)
        assert still_decoy.status_code == 400, still_decoy.text  # a wrong code, as for any sign-up
        assert still_decoy.json()["code"] == "code_invalid"
        assert http.post(f"{api}/user/login/", json=wrong, timeout=10).status_code == 401  # the 10th
        limited = http.post(f"{api}/user/login/", json=wrong, timeout=10)
        assert limited.status_code == 429, limited.text  # the count survived the flood
    finally:
        server.process.kill()


WRITERS = 30


@pytest.fixture
def busy_embedded_server(tmp_path):
    server = start_embedded_server(tmp_path, RATE_LIMITS=f"signup_ip={WRITERS}/h")
    yield server
    server.process.kill()


def test_parallel_profile_completions_on_sqlite_all_succeed(busy_embedded_server):
    from tests.support.parallel import in_parallel

    embedded_server = busy_embedded_server
    api, http = embedded_server.url, requests.Session()
    tokens = []
    for index in range(WRITERS):
        email = f"writer{index}@example.com"
        signup = http.post(f"{api}/user/signup/", json={"email_phone_number": email}, timeout=10)
        assert signup.status_code == 201, signup.text
        code = embedded_server.printed_code(rf"To: {re.escape(email)}[\s\S]*?verification code is:\s+(\d{{6}})\b")
        bearer = {"Authorization": f"Bearer {signup.json()['access']}"}
        assert http.post(f"{api}/user/verify/", json={"code": code}, headers=bearer, timeout=10).status_code == 200
        tokens.append(bearer)

    def complete(index: int) -> int:
        body = {**PROFILE, "username": f"writer{index}"}
        return requests.patch(f"{api}/user/change-user-info/", json=body, headers=tokens[index], timeout=30).status_code

    assert in_parallel(WRITERS, complete) == [200] * WRITERS
