"""Hostile and malformed requests: always a 4xx in the one error shape, never a 500."""

import json

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.api.conftest import assert_error
from users.models import User

VALID = {
    "/user/signup/": {"email_phone_number": "jane@example.com"},
    "/user/verify/": {"code": "123456"},
    "/user/change-user-info/": {"bio": "hello"},
    "/user/login/": {"user_input": "jane", "password": "Corr3ct-Horse-Battery"},
    "/user/logout/": {"refresh": "x"},
    "/user/login-refresh/": {"refresh": "x"},
}
# A string field of each endpoint, to carry hostile values.
TEXT_FIELD = {
    "/user/signup/": "email_phone_number",
    "/user/verify/": "code",
    "/user/change-user-info/": "bio",
    "/user/login/": "user_input",
    "/user/logout/": "refresh",
    "/user/login-refresh/": "refresh",
}


@pytest.fixture(params=list(VALID))
def endpoint(request, signup, verified, tokens):
    """(method, path) of each endpoint that takes a body, with the bearer token it needs set."""
    path = request.param
    api = request.getfixturevalue("api")
    bearer = {
        "/user/verify/": lambda: signup("new.person@example.com"),
        "/user/change-user-info/": lambda: verified("verified.person@example.com"),
        "/user/logout/": lambda: tokens["access"],
    }.get(path)
    api.bearer(bearer() if bearer else None)
    api.raise_request_exception = False  # a crash must show up as the 500 answer, not as a test error
    return ("PATCH" if path == "/user/change-user-info/" else "POST"), path


def send(api, method: str, path: str, body: str | bytes, content_type: str = "application/json"):
    return api.generic(method, path, body, content_type=content_type)


def test_malformed_json_is_refused(api, endpoint):
    response = send(api, *endpoint, '{"email_phone_number": ')

    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("email_phone_number=jane%40example.com", "application/x-www-form-urlencoded"),
        ('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n', "multipart/form-data; boundary=b"),
        ("jane@example.com", "text/plain"),
    ],
    ids=["form", "multipart", "text"],
)
def test_other_content_types_are_refused(api, endpoint, body, content_type):
    response = send(api, *endpoint, body, content_type)

    assert_error(response, 415, "unsupported_media_type")


def test_body_over_the_upload_limit_is_refused(api, settings, endpoint):
    method, path = endpoint
    body = json.dumps({**VALID[path], "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})

    response = send(api, method, path, body)

    assert response.status_code in (400, 413), response.content
    assert set(response.json()) == {"detail", "code", "fields"}


def test_oversized_signup_is_refused_before_anything_is_created(api, settings):
    body = json.dumps({"email_phone_number": "jane@example.com", "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})

    response = send(api, "POST", "/user/signup/", body)

    assert_error(response, 413, "request_too_large")
    assert not User.objects.exists()


@pytest.mark.parametrize("body", ["[]", '[{"a": 1}]', '"text"', "42", "true"])
def test_body_that_is_not_an_object_is_refused(api, endpoint, body):
    response = send(api, *endpoint, body)

    assert_error(response, 400, "invalid", fields=("non_field_errors",))


def test_null_body_is_refused(api, endpoint):
    assert_error(send(api, *endpoint, "null"), 400, "invalid")


def test_empty_body_is_refused(api, endpoint):
    assert_error(send(api, *endpoint, ""), 400, "invalid")


def test_null_bytes_in_a_string_are_refused(api, endpoint):
    method, path = endpoint
    field = TEXT_FIELD[path]

    response = send(api, method, path, json.dumps({**VALID[path], field: "jane\u0000@example.com"}))

    assert_error(response, 400, "invalid", fields=(field,))


def test_lone_surrogate_in_a_string_is_refused(api, endpoint):
    method, path = endpoint
    field = TEXT_FIELD[path]
    # json.dumps writes the lone surrogate as the escape \ud800, as a hostile client would send it.
    body = json.dumps({**VALID[path], field: "\ud800@example.com"})
    assert "\\ud800" in body

    response = send(api, method, path, body)

    assert_error(response, 400, "invalid", fields=(field,))


@pytest.mark.parametrize(
    "field", ["password", "confirm_password", "old_password", "username", "first_name", "bio", "gender"]
)
def test_lone_surrogate_in_any_profile_field_is_refused(api, verified, field):
    token = verified()
    body = json.dumps({"username": "jane", "password": "Corr3ct-Horse-Battery", field: "ab\ud800cd"})

    response = api.bearer(token).generic("PATCH", "/user/change-user-info/", body, content_type="application/json")

    assert_error(response, 400, "invalid", fields=(field,))


def test_invalid_utf8_is_refused(api, endpoint):
    response = send(api, *endpoint, b'{"email_phone_number": "\xff\xfe"}')

    assert_error(response, 400, "parse_error")


def test_deeply_nested_json_is_refused(api, endpoint):
    body = "[" * 5000 + "]" * 5000  # 10 kB, well under the upload limit

    response = send(api, *endpoint, body)

    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "code", "fields"}


def test_huge_integer_is_refused(api, endpoint):
    method, path = endpoint

    response = send(api, method, path, f'{{"{TEXT_FIELD[path]}": 1{"0" * 5000}}}')

    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "code", "fields"}


@pytest.mark.parametrize("path", ["/nope/", "/user/nope/", "/user/signup/extra/", "/api/"])
def test_unknown_url_answers_404_in_the_error_shape(api, path):
    response = api.get(path)

    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/user/signup/"), ("get", "/user/login/"), ("get", "/user/login-refresh/"), ("put", "/user/signup/")],
)
def test_wrong_method_answers_405_in_the_error_shape(api, method, path):
    response = getattr(api, method)(path)

    assert_error(response, 405, "method_not_allowed")


def test_backing_store_outage_answers_503(api, monkeypatch):
    def down(*args, **kwargs):
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr("users.codes.RedisCodeStore.issue", down)

    response = api.post("/user/signup/", {"email_phone_number": "jane@example.com"})

    assert_error(response, 503, "service_unavailable")


def test_unexpected_crash_answers_500_in_the_error_shape(api, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("users.views.signup.signup_start", crash)
    api.raise_request_exception = False

    response = api.post("/user/signup/", {"email_phone_number": "jane@example.com"})

    assert_error(response, 500, "server_error")
    assert "boom" not in response.content.decode()


@pytest.mark.parametrize("path", ["/user/signup", "/user/login"])
def test_paths_without_the_trailing_slash_reach_the_endpoint(api, path):
    body = {"email_phone_number": "jane@example.com"} if "signup" in path else {"user_input": "x", "password": "y"}

    response = api.post(path, body)

    assert response.status_code in (201, 401)
    assert response.json()["code" if response.status_code == 401 else "auth_status"]


@pytest.mark.parametrize("path", ["/health/live/", "/health/ready/"])
def test_wrong_method_on_a_plain_django_view_answers_in_the_error_shape(api, path):
    response = api.post(path, {})

    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
