"""Faults in the backing services, really cut: a Redis server this test starts and kills, a Celery
broker on a closed port, a database on a closed port. Every answer is a 503 in the error shape (no
500, no traceback), verify never reports success, and things work again once the service is back.
Nothing of ours is patched.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import requests
from django.conf import settings as django_settings
from django.core import mail

from tests.api.conftest import EMAIL, assert_error
from tests.conftest import last_email_code
from tests.factories import PASSWORD, UserFactory
from tests.support.processes import celery_configured
from tests.support.redis_server import RedisServer
from users.models import Session, User

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]

BASE_DIR = Path(__file__).resolve().parent.parent.parent
MAX_SECONDS = 10  # an outage must be answered within this, never by a hanging request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_redis(redis_server, settings):
    """Point the cache (codes, rate limits, logout markers) at our own Redis server."""
    default = settings.CACHES["default"]
    options = {**default.get("OPTIONS", {}), "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
    settings.CACHES = {"default": {**default, "LOCATION": redis_server.url, "OPTIONS": options}}
    return redis_server


@pytest.fixture
def no_limits(settings):
    settings.RATE_LIMITS = {name: "" for name in settings.RATE_LIMITS}


def timed(call):
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f}s"
    return response


def assert_unavailable(response) -> None:
    body = assert_error(response, 503, "service_unavailable")
    assert body["fields"] == {}
    assert "Traceback" not in response.content.decode()
    assert "redis" not in body["detail"].lower()


# --- Redis -----------------------------------------------------------------------------------


@pytest.mark.parametrize("limits", ["rate limits on", "rate limits off"])
def test_redis_down_gives_503_for_signup_verify_new_verify_and_login(api, own_redis, settings, limits):
    if limits == "rate limits off":
        settings.RATE_LIMITS = {name: "" for name in settings.RATE_LIMITS}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    UserFactory(username="jane", email="done@example.com")
    token = api.post("/user/signup/", {"email_phone_number": EMAIL}).json()["access"]
    code = last_email_code()

    own_redis.kill()

    assert_unavailable(timed(lambda: api.bearer(None).post("/user/signup/", {"email_phone_number": "b@example.com"})))
    verify = timed(lambda: api.bearer(token).post("/user/verify/", {"code": code}))
    assert verify.status_code != 200
    assert_unavailable(verify)
    assert_unavailable(timed(lambda: api.bearer(token).get("/user/new-verify/")))
    if limits == "rate limits on":  # without limits, a login does not need Redis at all
        login = timed(lambda: api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}))
        assert_unavailable(login)
    # A refresh needs no Redis at all: a garbage token is refused on its signature, as always.
    refresh = timed(lambda: api.bearer(None).post("/user/login-refresh/", {"refresh": "x.y.z"}))
    assert_error(refresh, 401, "token_not_valid")
    assert User.objects.get(email=EMAIL).auth_status == "new"


def test_after_redis_comes_back_everything_works_again(api, own_redis):
    UserFactory(username="jane", email="done@example.com")
    token = api.post("/user/signup/", {"email_phone_number": EMAIL}).json()["access"]
    old_code = last_email_code()
    own_redis.kill()
    assert_unavailable(api.bearer(token).post("/user/verify/", {"code": old_code}))

    own_redis.start()  # same port, empty: the code issued before the outage is gone

    assert_error(api.bearer(token).post("/user/verify/", {"code": old_code}), 400, "code_expired")
    assert api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL}).status_code == 201
    assert len(mail.outbox) == 2  # no cooldown survived the outage: a new code went out
    assert api.bearer(token).post("/user/verify/", {"code": last_email_code()}).status_code == 200
    login = api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD})
    assert login.status_code == 200, login.content


def test_redis_down_during_verify_never_verifies_even_with_the_right_code(api, own_redis, no_limits):
    token = api.post("/user/signup/", {"email_phone_number": EMAIL}).json()["access"]
    code = last_email_code()
    own_redis.kill()

    answers = [api.bearer(token).post("/user/verify/", {"code": code}) for _ in range(3)]

    assert [r.status_code for r in answers] == [503, 503, 503]
    assert User.objects.get(email=EMAIL).auth_status == "new"


def test_logout_while_redis_is_down_still_revokes_the_refresh_token(api, own_redis, no_limits):
    # A session's state is in the database only, so a logout goes through without Redis.
    UserFactory(username="jane", email=EMAIL)
    tokens = api.post("/user/login/", {"user_input": "jane", "password": PASSWORD}).json()
    own_redis.kill()

    response = timed(lambda: api.bearer(tokens["access"]).post("/user/logout/", {"refresh": tokens["refresh"]}))

    assert response.status_code == 200, response.content
    sid = jwt.decode(tokens["refresh"], options={"verify_signature": False})["sid"]
    assert Session.objects.get(id=sid).end_reason == "logout"
    own_redis.start()
    refresh = api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]})
    assert_error(refresh, 401, "token_not_valid")


def test_redis_down_health_ready_says_so(client, own_redis, db):
    own_redis.kill()

    response = client.get("/health/ready/")

    body = assert_error(response, 503, "service_unavailable")
    assert "redis" in body["fields"]


# --- Celery broker ---------------------------------------------------------------------------


class Broker:
    """Switches Celery between publishing to a broker on a closed port and running in-process.

    The options go on the app's own configuration and are removed again on the way up, so that no
    later test finds them pinned there (see tests/support/processes.celery_configured).
    """

    def __init__(self, settings) -> None:
        self.settings = settings
        self.eager = settings.CELERY_TASK_ALWAYS_EAGER
        self.stack = contextlib.ExitStack()

    def down(self) -> None:
        self.up()
        self.stack.enter_context(
            celery_configured(broker_url=f"redis://127.0.0.1:{free_port()}/0", task_always_eager=False)
        )
        self.settings.CELERY_TASK_ALWAYS_EAGER = False

    def up(self) -> None:
        self.stack.close()
        self.settings.CELERY_TASK_ALWAYS_EAGER = self.eager


@pytest.fixture
def broker(settings):
    broker = Broker(settings)
    yield broker
    broker.up()


def test_broker_down_signup_answers_503_quickly_and_a_retry_works_without_duplicate(live_server, broker):
    url = f"{live_server.url}/user/signup/"
    broker.down()

    started = time.monotonic()
    failed = requests.post(url, json={"email_phone_number": EMAIL}, timeout=MAX_SECONDS + 5)
    elapsed = time.monotonic() - started

    assert elapsed < MAX_SECONDS, f"{elapsed:.1f}s"
    assert failed.status_code == 503, failed.text
    assert failed.json() == {"detail": failed.json()["detail"], "code": "service_unavailable", "fields": {}}
    assert mail.outbox == []

    broker.up()
    retried = requests.post(url, json={"email_phone_number": EMAIL}, timeout=MAX_SECONDS)

    assert retried.status_code == 201, retried.text
    assert User.objects.filter(email=EMAIL).count() == 1
    # No cooldown was left by the failed attempt: the retry sent a code, and it works.
    assert len(mail.outbox) == 1
    token = retried.json()["access"]
    verify = requests.post(
        f"{live_server.url}/user/verify/",
        json={"code": last_email_code()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=MAX_SECONDS,
    )
    assert verify.status_code == 200, verify.text


def call(live_server, method: str, path: str, body: dict | None = None, token: str | None = None):
    """One request to the live server: outside a test transaction, the delivery is published
    inside the request, as in production."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{live_server.url}{path}", json=body, headers=headers, timeout=MAX_SECONDS + 5)


def test_broker_down_new_verify_answers_503_and_leaves_no_cooldown(live_server, broker, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 1
    token = call(live_server, "POST", "/user/signup/", {"email_phone_number": EMAIL}).json()["access"]
    time.sleep(1.1)
    broker.down()

    failed = timed(lambda: call(live_server, "GET", "/user/new-verify/", token=token))
    broker.up()
    again = call(live_server, "GET", "/user/new-verify/", token=token)  # within a second of the failure

    assert_unavailable(failed)
    assert again.status_code == 200, again.text
    assert len(mail.outbox) == 2
    verify = call(live_server, "POST", "/user/verify/", {"code": last_email_code()}, token=token)
    assert verify.status_code == 200, verify.text


def test_broker_down_signup_for_an_existing_account_answers_like_a_new_one(live_server, broker):
    UserFactory(email=EMAIL)
    broker.down()

    existing = timed(lambda: call(live_server, "POST", "/user/signup/", {"email_phone_number": EMAIL}))
    new = timed(lambda: call(live_server, "POST", "/user/signup/", {"email_phone_number": "new@example.com"}))

    assert_unavailable(existing)
    assert (existing.status_code, existing.content) == (new.status_code, new.content)


# --- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", ["redis down, seen by the rate limiter", "redis down, seen by the code store", "broker down"]
)
def test_every_503_says_when_to_retry(live_server, own_redis, broker, settings, fault):
    # README: "the API answers `503 {"code": "service_unavailable"}` (with `Retry-After`)".
    if fault == "redis down, seen by the code store":
        settings.RATE_LIMITS = {name: "" for name in settings.RATE_LIMITS}
    if fault == "broker down":
        broker.down()
    else:
        own_redis.kill()

    response = call(live_server, "POST", "/user/signup/", {"email_phone_number": EMAIL})

    assert_unavailable(response)
    assert int(response.headers.get("Retry-After", "0")) > 0, dict(response.headers)


# --- database --------------------------------------------------------------------------------


_DB_DOWN_SCRIPT = r"""
import json, uuid
import django
django.setup()
from django.test import Client
from users.tokens import SignupToken, token_pair

pair = token_pair(user_id=uuid.uuid4(), session_id=uuid.uuid4(), generation=1)
access, refresh = pair["access"], pair["refresh"]
signup = SignupToken.for_subject(uuid.uuid4(), stage="new")
client = Client(raise_request_exception=False)
calls = {
    "login": ("post", "/user/login/", {"user_input": "jane", "password": "whatever"}, None),
    "signup": ("post", "/user/signup/", {"email_phone_number": "jane@example.com"}, None),
    "verify": ("post", "/user/verify/", {"code": "123456"}, signup),
    "logout": ("post", "/user/logout/", {"refresh": refresh}, access),
    "refresh": ("post", "/user/login-refresh/", {"refresh": refresh}, None),
    "change-user-info": ("patch", "/user/change-user-info/", {"bio": "x"}, access),
}
out = {}
for name, (method, path, data, token) in calls.items():
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = getattr(client, method)(path, json.dumps(data), content_type="application/json", **headers)
    out[name] = [response.status_code, response.content.decode(), response.get("Retry-After")]
response = client.get("/health/ready/")
out["health-ready"] = [response.status_code, response.content.decode(), response.get("Retry-After")]
print(json.dumps(out))
"""


def run_with_database_down(redis_server) -> dict[str, list]:
    """Runs _DB_DOWN_SCRIPT against a database on a closed port (and our own Redis, up); returns
    {call: [status, body, Retry-After]}."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "project.settings.test",
        "DATABASE_URL": f"postgres://127.0.0.1:{free_port()}/nothing",
        "TEST_REDIS_URL": redis_server.url,
        "PYTHONPATH": str(BASE_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-c", _DB_DOWN_SCRIPT], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_unreachable_gives_503(redis_server):
    started = time.monotonic()
    answers = run_with_database_down(redis_server)
    elapsed = time.monotonic() - started

    # A wrong code needs no database: verify answers from Redis alone (here: no code was issued).
    status, content, _ = answers.pop("verify")
    assert status == 400, content
    assert json.loads(content)["code"] == "code_expired"
    for name, (status, content, _) in answers.items():
        assert status == 503, (name, status, content)
        body = json.loads(content)
        assert body["code"] == "service_unavailable", (name, body)
        assert set(body) == {"detail", "code", "fields"}, (name, body)
        assert "Traceback" not in content
        assert "psycopg" not in content
    assert elapsed < 30, f"{elapsed:.1f}s"
    assert django_settings.DATABASES["default"]["PORT"] != 1  # our own database was never touched


def test_database_unreachable_health_ready_names_it_and_every_503_says_when_to_retry(redis_server):
    answers = run_with_database_down(redis_server)
    answers.pop("verify")  # a wrong code needs no database (see above)

    status, content, _ = answers["health-ready"]
    assert status == 503, content
    body = json.loads(content)
    assert body["code"] == "service_unavailable"
    assert body["fields"] == {"database": ["unavailable"]}  # Redis is up, the broker is in-process
    assert {name: status for name, (status, _, _) in answers.items()} == dict.fromkeys(answers, 503)
    # README: with the database unreachable "the API answers 503 ... (with Retry-After)".
    no_retry_after = sorted(name for name, (_, _, retry_after) in answers.items() if int(retry_after or 0) <= 0)
    assert no_retry_after == [], f"503 without a positive Retry-After: {no_retry_after}"
