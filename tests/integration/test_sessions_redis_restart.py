"""Sessions live in the database only: a Redis server of our own, restarted empty, changes none of
them. A rotated refresh token stays refused, a logged-out session stays ended, and live sessions
go on (tests/api/test_sessions.py does the same with a FLUSHDB)."""

import shutil

import pytest

from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD, UserFactory
from tests.support.redis_server import RedisServer, free_port_in
from users.models import Session
from users.tokens import AccessToken

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]


@pytest.fixture
def own_redis(tmp_path, settings):
    """The cache (codes, rate limits) on a redis-server of ours, on a loopback port of 7000-7999."""
    server = RedisServer(tmp_path, port=free_port_in(range(7000, 8000)))
    server.start()
    default = settings.CACHES["default"]
    options = {**default.get("OPTIONS", {}), "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
    settings.CACHES = {"default": {**default, "LOCATION": server.url, "OPTIONS": options}}
    yield server
    server.kill()


def login(api, user_input: str = "jane") -> dict:
    response = api.bearer(None).post("/user/login/", {"user_input": user_input, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def refresh_with(api, refresh: str):
    return api.bearer(None).post("/user/login-refresh/", {"refresh": refresh})


def test_sessions_come_through_a_redis_restart_unchanged(api, own_redis, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 10
    UserFactory(username="jane", email=EMAIL)
    laptop, phone, tablet = login(api), login(api, EMAIL), login(api)
    rotated = refresh_with(api, laptop["refresh"]).json()
    assert api.bearer(phone["access"]).post("/user/logout/", {"refresh": phone["refresh"]}).status_code == 200
    listed = api.bearer(tablet["access"]).get("/user/sessions/").json()
    rows = list(Session.objects.order_by("id").values())
    assert [entry["id"] for entry in listed] == [
        str(AccessToken(tokens["access"]).session_id) for tokens in (tablet, laptop)
    ]

    own_redis.kill()
    own_redis.start()  # the same port, empty

    assert api.bearer(tablet["access"]).get("/user/sessions/").json() == listed
    assert list(Session.objects.order_by("id").values()) == rows
    assert_error(refresh_with(api, laptop["refresh"]), 401, "token_not_valid")  # rotated: still refused
    assert_error(api.bearer(phone["access"]).get("/user/me/"), 401, "token_not_valid")  # logged out: still ended
    assert_error(refresh_with(api, phone["refresh"]), 401, "token_not_valid")
    assert api.bearer(rotated["access"]).get("/user/me/").status_code == 200  # live ones go on
    assert refresh_with(api, rotated["refresh"]).status_code == 200
    assert refresh_with(api, tablet["refresh"]).status_code == 200
