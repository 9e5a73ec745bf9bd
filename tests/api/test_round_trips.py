"""The round-trip budget of the hot paths, as the README states it: what each request sends to
PostgreSQL and to Redis (the cache, the code store and the broker alike), counted on the real
servers. A regression that adds a query or a command to one of these paths fails here, long before
a benchmark would show it.

| request | SQL | Redis |
|---|---|---|
| sign-up (new address or number) | 1 statement | 1 script (limits, code, cooldown) + 1 publish |
| verify, wrong code | none | 1 script (limit, attempt) |
| me | 1 query (user and session) | none |
| refresh | 1 UPDATE (compare-and-swap) | none |
| refresh with a forged or garbage token | none | none |
| logout | 1 UPDATE (checks the caller's session too) | none |
| login | 1 SELECT + 1 INSERT (the session) | 1 script (limits) + 1 refund |
"""

from contextlib import contextmanager

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import EMAIL, PHONE
from tests.factories import PASSWORD, UserFactory, session_tokens


@contextmanager
def round_trips():
    """Every Redis command sent and every SQL statement run inside the block."""
    sent: dict[str, list[str]] = {"redis": [], "sql": []}
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent["redis"].append(str(args[0]).upper())
        return original(self, *args, **options)

    redis.Redis.execute_command = counting
    try:
        with CaptureQueriesContext(connection) as queries:
            yield sent
    finally:
        redis.Redis.execute_command = original
    sent["sql"] = [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def published(worker_broker):
    """Tasks go to a real broker (nothing runs them in this process): a sign-up's publish is one
    of its round trips, and no delivery runs inside the request."""
    return worker_broker


def post(api, path: str, body: dict, token: str | None = None):
    return api.bearer(token).post(path, body)


@pytest.mark.parametrize("identifier", [EMAIL, PHONE])
def test_a_sign_up_is_one_script_one_statement_and_one_publish(api, published, identifier):
    assert post(api, "/user/signup/", {"email_phone_number": "warm-up@example.com"}).status_code == 201

    with round_trips() as sent:
        response = post(api, "/user/signup/", {"email_phone_number": identifier})

    assert response.status_code == 201, response.content
    assert len(sent["sql"]) == 1, sent["sql"]
    assert sent["redis"] == ["EVALSHA", "LPUSH"]


def test_a_sign_up_of_a_finished_account_costs_the_same(api, published):
    UserFactory(username="jane", email=EMAIL)
    assert post(api, "/user/signup/", {"email_phone_number": "warm-up@example.com"}).status_code == 201

    with round_trips() as sent:
        response = post(api, "/user/signup/", {"email_phone_number": EMAIL})

    assert response.status_code == 201, response.content
    assert len(sent["sql"]) == 1, sent["sql"]  # the decoy and its notice's record are in the statement
    assert sent["redis"] == ["EVALSHA", "LPUSH"]


def test_a_wrong_code_is_one_script_and_no_sql(api, published):
    token = post(api, "/user/signup/", {"email_phone_number": EMAIL}).json()["access"]
    post(api, "/user/verify/", {"code": "000000"}, token)

    with round_trips() as sent:
        response = post(api, "/user/verify/", {"code": "000000"}, token)

    assert response.status_code == 400, response.content
    assert sent == {"redis": ["EVALSHA"], "sql": []}


def test_me_is_one_query(api, db):
    tokens = session_tokens(UserFactory())

    with round_trips() as sent:
        response = api.bearer(tokens["access"]).get("/user/me/")

    assert response.status_code == 200, response.content
    assert len(sent["sql"]) == 1, sent["sql"]
    assert sent["redis"] == []


def test_a_refresh_is_one_update(api, db):
    user = UserFactory()
    post(api, "/user/login-refresh/", {"refresh": session_tokens(user)["refresh"]})
    refresh = session_tokens(user)["refresh"]

    with round_trips() as sent:
        response = post(api, "/user/login-refresh/", {"refresh": refresh})

    assert response.status_code == 200, response.content
    assert [sql.split()[0] for sql in sent["sql"]] == ["UPDATE"], sent["sql"]
    assert sent["redis"] == []


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl"])
def test_a_forged_refresh_token_costs_no_round_trip(api, db, refresh):
    with round_trips() as sent:
        response = post(api, "/user/login-refresh/", {"refresh": refresh})

    assert response.status_code == 401, response.content
    assert sent == {"redis": [], "sql": []}


def test_a_logout_is_one_update(api, db):
    tokens = session_tokens(UserFactory())

    with round_trips() as sent:
        response = post(api, "/user/logout/", {"refresh": tokens["refresh"]}, tokens["access"])

    assert response.status_code == 200, response.content
    assert [sql.split()[0] for sql in sent["sql"]] == ["UPDATE"], sent["sql"]
    assert sent["redis"] == []


def test_a_login_is_one_select_one_insert_and_two_scripts(api, db):
    UserFactory(username="jane", email=EMAIL)
    post(api, "/user/login/", {"user_input": "jane", "password": PASSWORD})

    with round_trips() as sent:
        response = post(api, "/user/login/", {"user_input": "jane", "password": PASSWORD})

    assert response.status_code == 200, response.content
    assert [sql.split()[0] for sql in sent["sql"]] == ["SELECT", "INSERT"], sent["sql"]
    assert sent["redis"] == ["EVALSHA", "EVALSHA"]  # the limits, then the refund of a success
