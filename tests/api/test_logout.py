"""POST /user/logout/: end the session of the caller's refresh token."""

import pytest

from tests.api.conftest import assert_error
from tests.factories import UserFactory


@pytest.fixture
def other_tokens(login):
    UserFactory(username="other")
    return login("other")


def logout(api, access: str | None, refresh):
    return api.bearer(access).post("/user/logout/", {"refresh": refresh})


def refresh_with(api, refresh: str):
    return api.bearer(None).post("/user/login-refresh/", {"refresh": refresh})


def test_logout_succeeds(api, tokens):
    response = logout(api, tokens["access"], tokens["refresh"])

    assert response.status_code == 200, response.content
    assert response.json() == {"detail": "Logged out."}


def test_refresh_after_logout_is_refused(api, tokens):
    logout(api, tokens["access"], tokens["refresh"])

    response = refresh_with(api, tokens["refresh"])

    assert_error(response, 401, "token_not_valid")


def test_logout_ends_the_session_so_its_access_token_dies_too(api, tokens):
    logout(api, tokens["access"], tokens["refresh"])

    assert_error(logout(api, tokens["access"], tokens["refresh"]), 401, "token_not_valid")
    assert_error(api.bearer(tokens["access"]).get("/user/me/"), 401, "token_not_valid")


def test_logout_refuses_the_refresh_token_of_another_user(api, tokens, other_tokens):
    response = logout(api, tokens["access"], other_tokens["refresh"])

    assert_error(response, 400, "invalid", fields=("refresh",))
    assert refresh_with(api, other_tokens["refresh"]).status_code == 200  # still valid for its owner


@pytest.mark.parametrize("refresh", ["garbage", "", "a.b.c"])
def test_logout_refuses_an_invalid_refresh_token(api, tokens, refresh):
    assert_error(logout(api, tokens["access"], refresh), 400, "invalid", fields=("refresh",))


def test_logout_refuses_an_access_token_as_refresh(api, tokens):
    assert_error(logout(api, tokens["access"], tokens["access"]), 400, "invalid", fields=("refresh",))


def test_logout_requires_the_refresh_token(api, tokens):
    response = api.bearer(tokens["access"]).post("/user/logout/", {})

    assert_error(response, 400, "invalid", fields=("refresh",))


def test_logout_requires_an_access_token(api, tokens):
    response = logout(api, None, tokens["refresh"])

    assert_error(response, 401, "not_authenticated")
    assert refresh_with(api, tokens["refresh"]).status_code == 200


def test_logout_refuses_a_signup_token(api, signup, tokens):
    response = logout(api, signup("new.person@example.com"), tokens["refresh"])

    assert_error(response, 401, "token_not_valid")
    assert refresh_with(api, tokens["refresh"]).status_code == 200


def test_logout_refuses_a_refresh_token_as_bearer(api, tokens):
    assert_error(logout(api, tokens["refresh"], tokens["refresh"]), 401, "token_not_valid")


def test_logout_ends_only_its_own_session(api, tokens, login):
    other_session = login("jane")
    logout(api, tokens["access"], tokens["refresh"])

    assert refresh_with(api, tokens["refresh"]).status_code == 401  # a stale client retries its token
    assert refresh_with(api, other_session["refresh"]).status_code == 200
